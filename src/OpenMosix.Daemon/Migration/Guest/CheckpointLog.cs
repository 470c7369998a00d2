namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>What the periodic checkpoints of guests log.</summary>
internal static partial class CheckpointLog
{
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
}
