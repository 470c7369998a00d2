namespace OpenMosix.Linux.Events;

public enum ProcessEventKind
{
    /// <summary>A new process (not a thread): <see cref="ProcessEvent.Pid"/> is the child, ParentPid its parent.</summary>
    Fork,
    /// <summary>The process ran execve.</summary>
    Exec,
    /// <summary>The process exited (its thread group leader did); ExitStatus is its wait status.</summary>
    Exit,
    /// <summary>The kernel dropped events (the socket's buffer was full): whoever keeps state from them must look
    /// again at /proc.</summary>
    Lost,
}

/// <summary>
/// One event of the kernel's process connector, for processes (thread groups) only. <see cref="Timestamp"/> is the
/// kernel's monotonic clock when it happened (CLOCK_MONOTONIC), so lifetimes are exact however late the event is read.
/// </summary>
public readonly record struct ProcessEvent(ProcessEventKind Kind, int Pid, int ParentPid, TimeSpan Timestamp, int ExitStatus = 0);
