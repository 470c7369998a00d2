namespace OpenMosix.Daemon.Migration.Home;

/// <summary>What the home side of migrations logs.</summary>
internal static partial class HomeLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} moved to node {Node} (pid {RemotePid} there): {MiB} MiB frozen {FrozenMs:F0} ms, after {Rounds} pre-copy rounds of {PrecopiedMiB} MiB")]
    public static partial void Moved(ILogger logger, int pid, int node, int remotePid, long mib, double frozenMs, int rounds, long precopiedMiB);

    /// <summary>Where a move's frozen time went: the final image dumped and sent, the copy restored (kept frozen),
    /// commit until the target says it runs; then the deputy made, which frees the ids the copy's threads take where
    /// both nodes share one PID namespace (a lab).</summary>
    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} frozen {FrozenMs:F1} ms: final image dumped and sent in {SentMs:F1} ms, copy restored {RestoredMs:F1} ms later, running {RunningMs:F1} ms later; deputy made in {DeputyMs:F1} ms")]
    public static partial void FrozenPhases(ILogger logger, int pid, double frozenMs, double sentMs, double restoredMs, double runningMs, double deputyMs);

    /// <summary>Where a whole move out went, from the request on (<see cref="MoveClock"/>): the checks, the link,
    /// the offer, the write tracking, the probe, each pre-copy round and its answer, the final image, the restore,
    /// commit until running, the deputy, the relay.</summary>
    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} to node {Node} by phase: {Phases}")]
    public static partial void MovePhases(ILogger logger, int pid, int node, string phases);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid}: its copy on node {Node} still fetches its memory from here (post-copy); the move waits until it holds every page")]
    public static partial void WaitsForPostcopy(ILogger logger, int pid, int node);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} executed a new program while its move to node {Node} began; moving it again")]
    public static partial void ExecutedDuringMove(ILogger logger, int pid, int node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "migration of process {Pid} to node {Node} called off, it runs on here: {Reason}")]
    public static partial void CalledOff(ILogger logger, int pid, int node, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} ended on its remote node: {Status}")]
    public static partial void RemoteExit(ILogger logger, int pid, string status);

    [LoggerMessage(Level = LogLevel.Error, Message = "process {Pid} lost: node {Node} is gone ({Reason}); its deputy ends as if killed")]
    public static partial void Lost(ILogger logger, int pid, int node, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid} starts at home: {Reason}")]
    public static partial void PlacementSkipped(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} came home from node {Node}: {MiB} MiB, frozen {FrozenMs:F0} ms")]
    public static partial void CameHome(ILogger logger, int pid, int node, long mib, double frozenMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid}: signals {Signals} reached its copy on node {Node} after its image home was read; sent to it here")]
    public static partial void SignalsAfterImage(ILogger logger, int pid, int node, string signals);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid}: signals that reached its copy after its image home was read found it ended here: {Reason}")]
    public static partial void SignalsAfterImageLost(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid}: node {Node} asks to move it to node {Target} ({Reason})")]
    public static partial void MoveRequested(ILogger logger, int pid, int node, int target, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid} not moved on to node {Target}: {Reason}")]
    public static partial void MoveOnFailed(ILogger logger, int pid, int target, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid} could not come home, it runs on where it was: {Reason}")]
    public static partial void NotHome(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid}: its terminal at home refused the modes set remotely: {Reason}")]
    public static partial void TerminalModes(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "deputy {Pid} already gone: {Reason}")]
    public static partial void DeputyGone(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node link to node {Node} failed: {Reason}")]
    public static partial void LinkFailed(ILogger logger, int node, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} came home with {Bytes} bytes of input its copy had not read: they come first on its new stdin")]
    public static partial void InputPutBack(ILogger logger, int pid, int bytes);

    [LoggerMessage(Level = LogLevel.Debug, Message = "process {Pid}: feeding its stdin ended: {Reason}")]
    public static partial void InputFeedEnded(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid} came home, but the input its copy had not read could not be put back: {Reason}")]
    public static partial void InputNotPutBack(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid} not saved as away ({Reason}): an omd started after a crash of this one will not take it over")]
    public static partial void NotSavedAway(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "taking over {Count} processes away that the last omd left (away.json)")]
    public static partial void TakingOver(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} ended while no omd ran (or its PID names another process now): not taken over")]
    public static partial void NotAwayAnyMore(ILogger logger, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} taken over: its copy on node {Node} ({RemotePid}) is relayed again, {Delivered} bytes of its output were delivered before")]
    public static partial void TakenOver(ILogger logger, int pid, int node, int remotePid, long delivered);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid}: the link with node {Node} closed ({Reason}) while that node is up: waiting for a new omd there to resume its copy")]
    public static partial void WaitingForCopyNode(ILogger logger, int pid, int node, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid}: {Bytes} bytes of input its copy's node had taken and not written into its stdin sent again from byte {From}")]
    public static partial void InputSentAgain(ILogger logger, int pid, long bytes, long from);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid}: its input from byte {From} on cannot be sent again: {Reason}")]
    public static partial void InputNotSentAgain(ILogger logger, int pid, long from, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} ended on node {Node}; what it forked there runs on, listed here until it ends")]
    public static partial void Outliving(ILogger logger, int pid, int node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "what process {Pid} forked on node {Node} is out of reach: {Reason}")]
    public static partial void OutlivingEnded(ILogger logger, int pid, int node, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} ended away with {Count} of {Bytes} bytes typed ahead unread: put back into its terminal")]
    public static partial void InputPutBack(ILogger logger, int pid, int count, int bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid} ended away with {Bytes} bytes typed ahead unread, which could not be put back into its terminal: {Reason}")]
    public static partial void InputNotPutBack(ILogger logger, int pid, int bytes, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid}'s copy {State} on its node; its deputy follows")]
    public static partial void CopyJobState(ILogger logger, int pid, string state);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid}'s copy stopped by signal {Signal} on its node, which its group, orphaned here, discards: it is continued")]
    public static partial void CopyStopDiscarded(ILogger logger, int pid, int signal);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the tree of process {Pid} did not move to node {Node}: {Reason}")]
    public static partial void TreeStayed(ILogger logger, int pid, ushort node, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid}: its copy had ended on node {Node} before the link broke; node {Node} told its exit status")]
    public static partial void ExitHeardLate(ILogger logger, int pid, int node);
}
