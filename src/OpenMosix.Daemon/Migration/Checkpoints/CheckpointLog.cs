namespace OpenMosix.Daemon.Migration.Checkpoints;

/// <summary>
/// What the checkpoints of a process running away from home log, on both sides: the guest's node that takes them
/// (the process named as guest N) and home that keeps them and restarts the process from them (process N).
/// </summary>
internal static partial class CheckpointLog
{
    // The guest's node.

    [LoggerMessage(Level = LogLevel.Debug, Message = "guest {Guest}: checkpoint {Sequence} sent home ({Kind}, {Bytes} bytes, frozen {FrozenMs:F1} ms)")]
    public static partial void Sent(ILogger logger, int guest, long sequence, string kind, long bytes, double frozenMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest}: checkpoint {Sequence} not kept: {Reason}; the next one is taken whole")]
    public static partial void NotKept(ILogger logger, int guest, long sequence, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest}: checkpoint {Sequence} not taken: {Reason}; the next one is tried at the next interval, whole")]
    public static partial void NotTaken(ILogger logger, int guest, long sequence, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "guest {Guest}: periodic checkpoints failed: {Reason}")]
    public static partial void Failed(ILogger logger, int guest, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest}: no periodic checkpoints, this kernel cannot track its writes")]
    public static partial void Unsupported(ILogger logger, int guest);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest}: checkpoints wait: {Reason}")]
    public static partial void Deferred(ILogger logger, int guest, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest}: checkpoints go on")]
    public static partial void Resumed(ILogger logger, int guest);

    // Home.

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
