namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// The target side of a pre-copy: a restore stub laid out like the process at home, its tracked regions mapped and
/// filled round by round while the process still runs there (or its deputy at home, laid out the same way on a trip
/// home). The final image completes it into the process.
/// </summary>
public sealed class PrecopyTarget
{
    internal PrecopyTarget(int pid, PrecopyLayout layout, SyscallInjector injector, ulong trampoline, IReadOnlyDictionary<int, int> descriptors,
        List<MemoryRegion> tracked)
    {
        Pid = pid;
        Layout = layout;
        Injector = injector;
        Trampoline = trampoline;
        Descriptors = descriptors;
        Tracked = tracked;
    }

    /// <summary>The stub's PID (the process's PID here once completed).</summary>
    public int Pid { get; }
    public int Rounds { get; internal set; } = 1;
    public ulong BytesWritten { get; internal set; }
    internal PrecopyLayout Layout { get; }
    internal SyscallInjector Injector { get; }
    internal ulong Trampoline { get; }
    internal IReadOnlyDictionary<int, int> Descriptors { get; }
    /// <summary>The regions filled so far, as mapped in the stub.</summary>
    internal List<MemoryRegion> Tracked { get; }
    internal bool Finished { get; set; }
    /// <summary>Born in a stand-in leader's session (<see cref="SessionHolder"/>): the copy joins its terminal as a member.</summary>
    internal bool HeldSession { get; init; }
    /// <summary>Laid out in a deputy coming home, not in a stub: failing, it stays a deputy instead of being killed.</summary>
    internal bool IntoDeputy { get; init; }
}
