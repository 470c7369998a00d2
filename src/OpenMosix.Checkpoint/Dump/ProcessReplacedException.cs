namespace OpenMosix.Checkpoint.Dump;

/// <summary>
/// The process executed a new program while its pre-copy ran (a process registered by `om run` just before its
/// exec, or any program that execs): the rounds copied an address space that no longer exists, so the pre-copy is
/// void. The process itself is unharmed and runs on; a migration starts again with a new pre-copy.
/// </summary>
public sealed class ProcessReplacedException(int pid, Exception inner)
    : Exception($"process {pid} executed a new program while it was being copied; the copy so far is void", inner)
{
    public int Pid { get; } = pid;

    /// <summary>Whether <paramref name="e"/>, or what it wraps, says that <paramref name="pid"/> executed a new program
    /// under its copy: this exception, or a lost address space of a process that still runs.</summary>
    public static bool Explains(Exception? e, int pid) => CopyLoss.Ended(e, pid) is false;
}
