namespace OpenMosix.Checkpoint.Image;

/// <summary>
/// What a thread may do beyond its ids, each restored exactly or the restore fails: never looser. The kernel keeps
/// all of it per thread (it is part of a thread's credentials, or a task flag), so every thread has its own record.
/// Bit N of a capability set is capability N.
/// </summary>
public sealed class Privileges
{
    public ulong Effective { get; init; }
    public ulong Permitted { get; init; }
    public ulong Inheritable { get; init; }
    /// <summary>The bounding set: what the thread and anything it executes can ever hold.</summary>
    public ulong Bounding { get; init; }
    public ulong Ambient { get; init; }
    /// <summary>PR_GET_SECUREBITS (SECBIT_NOROOT, NO_SETUID_FIXUP, KEEP_CAPS, NO_CAP_AMBIENT_RAISE and their locks).</summary>
    public int Securebits { get; init; }
    /// <summary>PR_GET_NO_NEW_PRIVS: execve never grants privileges (setuid bits, file capabilities) again.</summary>
    public bool NoNewPrivs { get; init; }
    /// <summary>Its seccomp filters, oldest first (empty: no seccomp; strict mode is never saved, it is refused).</summary>
    public List<SeccompFilter> SeccompFilters { get; init; } = [];
}

/// <summary>One seccomp filter: its classic BPF instructions (8 bytes each) and SECCOMP_FILTER_FLAG_LOG.</summary>
public sealed record SeccompFilter(byte[] Program, bool Log);
