namespace OpenMosix.Checkpoint.Dump;

/// <summary>
/// The process exited (a zombie now, or reaped) while its pre-copy ran: its address space went as an exec's would, but
/// there is no new program to copy again. A move of it is over, not retried; a trip home of a guest that exits is
/// ended by the exit itself (its status goes home as any guest's).
/// </summary>
public sealed class ProcessEndedException(int pid, Exception inner)
    : Exception($"process {pid} exited while it was being copied", inner)
{
    public int Pid { get; } = pid;

    /// <summary>Whether <paramref name="e"/>, or what it wraps, says that <paramref name="pid"/> exited under its copy:
    /// this exception, or a lost address space of a process that has ended.</summary>
    public static bool Explains(Exception? e, int pid) => CopyLoss.Ended(e, pid) is true;
}
