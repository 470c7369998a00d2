namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>What the guest side of migrations logs.</summary>
internal static partial class GuestLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "refused process {Pid} of node {Home}: {Reason}")]
    public static partial void Refused(ILogger logger, int pid, int home, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "restoring process {Pid} of node {Home} failed: {Reason}")]
    public static partial void RestoreFailed(ILogger logger, int pid, int home, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "migration of process {Pid} from node {Home} called off: {Reason}")]
    public static partial void Aborted(ILogger logger, int pid, int home, string reason);

    /// <param name="releaseMs">from telling home it runs until every thread of the copy runs: its threads made
    /// meanwhile, waiting for ids its original still holds where both nodes share one PID namespace.</param>
    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} of node {Home} runs here as {Guest}, let go {ReleaseMs:F1} ms after home was told")]
    public static partial void Running(ILogger logger, int pid, int home, int guest, double releaseMs);

    /// <summary>Where an arrival went on this side (<see cref="MoveClock"/>), from the link's first message on.</summary>
    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} of node {Home} arrived, by phase: {Phases}")]
    public static partial void MovePhases(ILogger logger, int pid, int home, string phases);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest}: home node {Home} is gone ({Reason}); killing it")]
    public static partial void HomeLost(ILogger logger, int guest, int home, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest} {Status}")]
    public static partial void Exited(ILogger logger, int guest, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest} went home to node {Home}")]
    public static partial void WentHome(ILogger logger, int guest, int home);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest}: signals {Signals} reached it after its image home was read, sent home")]
    public static partial void SignalsAfterImage(ILogger logger, int guest, string signals);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest}: signals that reached it after its image home was read could not be sent home: {Reason}")]
    public static partial void SignalsAfterImageLost(ILogger logger, int guest, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest}: home node {Home} did not move it on: {Reason}")]
    public static partial void MoveRefused(ILogger logger, int guest, int home, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest} could not be sent home: {Reason}")]
    public static partial void SendHomeFailed(ILogger logger, int guest, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest} exited on its way home; its exit goes home instead")]
    public static partial void ExitedOnWayHome(ILogger logger, int guest);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest} stays here: {Reason}")]
    public static partial void Stays(ILogger logger, int guest, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest} (process {Pid} of node {Home}): node {Home} is up but its omd is gone; the copy is stopped and waits up to {Seconds} s for a new omd there to take it over")]
    public static partial void WaitingForHome(ILogger logger, int guest, int pid, int home, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest} (process {Pid} of node {Home}) taken over by node {Home}'s new omd; {Bytes} bytes of output sent again, the copy runs on")]
    public static partial void TakenOver(ILogger logger, int guest, int pid, int home, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest} (process {Pid} of node {Home}) killed: {Reason}")]
    public static partial void NotTakenOver(ILogger logger, int guest, int pid, int home, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest} (process {Pid} of node {Home}), adopted, ended with its exit status unknown here ({Reason}): its home restarts it from its checkpoint or loses it")]
    public static partial void EndedUnwatched(ILogger logger, int guest, int pid, int home, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest}: the omd of home node {Home} still takes connections at {Endpoint}: not waiting for another")]
    public static partial void NotWaiting(ILogger logger, int guest, int home, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest}: no keeper holds its pipes ({Reason}): it dies with this omd if this omd is killed")]
    public static partial void NotKept(ILogger logger, int guest, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest} (process {Pid} of node {Home}) adopted from the omd that died here; it waits, stopped, up to {Seconds} s for its home to resume it")]
    public static partial void Adopted(ILogger logger, int guest, int pid, int home, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest} (process {Pid} of node {Home}) left by the omd that died here not adopted: {Reason}")]
    public static partial void NotAdopted(ILogger logger, int guest, int pid, int home, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest} (process {Pid} of node {Home}) resumed by its home after this node's omd was replaced; the copy runs on")]
    public static partial void ResumedHere(ILogger logger, int guest, int pid, int home);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest} (process {Pid} of node {Home}), adopted, not sent home: left stopped to its keeper for the next omd")]
    public static partial void LeftToKeeper(ILogger logger, int guest, int pid, int home);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest}: its home's signal for process {Pid} not sent: no process the copy forked here runs under that PID")]
    public static partial void NoForkedChild(ILogger logger, int guest, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest} {Status}; what it forked here runs on, reported home until it ends")]
    public static partial void Outlived(ILogger logger, int guest, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest}: the last process it forked here ended; its link closes")]
    public static partial void OutlivedEnded(ILogger logger, int guest);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest}: home's move of process {Pid} to {Target}: {Outcome}")]
    public static partial void ForkedMoveAnswered(ILogger logger, int guest, int pid, string target, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Guest}: what it left unread in its terminal could not be taken for home: {Reason}")]
    public static partial void UnreadInputLost(ILogger logger, int guest, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest} {State} on this node; node {Home} told, for its deputy")]
    public static partial void JobStateSent(ILogger logger, int guest, ushort home, string state);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} of node {Home}: its copy here {Status} before node {Home} asked; told again")]
    public static partial void ExitToldAgain(ILogger logger, int pid, ushort home, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "process {Pid} of node {Home}: {Bytes} bytes of its copy's output sent again with its exit")]
    public static partial void OutputToldAgain(ILogger logger, int pid, ushort home, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid} of node {Home}: the output its copy sent before its exit is no longer all kept here; its exit told alone")]
    public static partial void OutputNoLongerKept(ILogger logger, int pid, ushort home);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest {Guest}: the link broke after its exit went home, before node {Home} closed it; its exit and its last output kept for node {Home} to ask")]
    public static partial void ExitMayBeUnread(ILogger logger, int guest, ushort home);
}
