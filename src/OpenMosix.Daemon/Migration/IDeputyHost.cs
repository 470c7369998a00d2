using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// What the home side of a migration needs from the checkpoint engine to keep a deputy: turn the frozen original
/// into one (memory released, signals observable), end it with the remote copy's exit status, and hear what
/// happens to it (signals to forward, its death).
/// </summary>
public interface IDeputyHost
{
    void MakeDeputy(int pid);

    /// <summary>The deputy exits with exactly <paramref name="status"/>, so its parent's wait() sees the truth.</summary>
    void EndDeputy(int pid, ExitStatus status);

    /// <summary>Rebuilds the process into its deputy (it came home), kept stopped until <see cref="LetRun"/>; on
    /// failure it stays a deputy.</summary>
    RestoredProcess RestoreInto(int pid, Stream image);

    /// <summary>The process that came home runs: its threads are made now, once its copy gave their ids back.</summary>
    void LetRun(int pid);

    /// <summary>Raised (on any thread) for a signal sent to the deputy, which was kept from it, for forwarding.</summary>
    event Action<int, int>? SignalArrived;

    /// <summary>Raised (on any thread) when a deputy ended by itself (SIGKILL cannot be intercepted).</summary>
    event Action<int>? DeputyDied;
}
