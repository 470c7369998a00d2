namespace OpenMosix.Daemon.Migration.Checkpoints;

/// <summary>What home logs about the checkpoints of its processes and their restarts.</summary>
internal static partial class CheckpointLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid}: checkpoint {Sequence} stored")]
    public static partial void Stored(ILogger logger, int pid, long sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid}: checkpoint {Sequence} refused: {Reason}")]
    public static partial void Refused(ILogger logger, int pid, long sequence, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid}: checkpoints could not be removed: {Reason}")]
    public static partial void NotForgotten(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid} restarted here from checkpoint {Sequence} (node {Node} is gone: {Reason}); {Dropped} bytes of output it writes again dropped, {Input} bytes of input fed again")]
    public static partial void Restarted(ILogger logger, int pid, long sequence, int node, string reason, long dropped, long input);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid}: the output it writes after its restart no longer reaches its old output: {Reason}")]
    public static partial void OutputEnded(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "process {Pid} could not be restarted from its checkpoint: {Reason}")]
    public static partial void RestartFailed(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid}: checkpoint {Sequence} merged after waiting {Seconds:F1} s ({Reason})")]
    public static partial void MergeWaited(ILogger logger, int pid, long sequence, double seconds, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid}, restarted here, goes on to node {Node}")]
    public static partial void MovingOn(ILogger logger, int pid, int node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid}, restarted here, stays here: it did not move to node {Node}: {Reason}")]
    public static partial void StaysAfterRestart(ILogger logger, int pid, int node, string reason);
}
