using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
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

    /// <summary>Traces again a deputy an omd that died left behind, parked as before (a takeover of home).</summary>
    void AdoptDeputy(int pid) => throw new NotSupportedException("this deputy host cannot take over deputies");

    /// <summary>The deputy exits with exactly <paramref name="status"/>, so its parent's wait() sees the truth.</summary>
    void EndDeputy(int pid, ExitStatus status);

    /// <summary>Rebuilds the process into its deputy (it came home), kept stopped until <see cref="LetRun"/>, over the
    /// pre-copy rounds it took if any; on failure it stays a deputy.</summary>
    RestoredProcess RestoreInto(int pid, Stream image);

    /// <summary>A pre-copy round of the trip home while the copy runs on: the first lays the deputy out, each fills
    /// it; a deputy still meanwhile. On failure it is a plain, emptied deputy again.</summary>
    void TakeRound(int pid, Stream round);

    /// <summary>The trip home is off: what its rounds built goes (nothing without rounds).</summary>
    void AbandonRounds(int pid);

    /// <summary>The process rebuilt at home (not let run yet) gets a new pipe as its stdin; returns the write end.</summary>
    SafeFileHandle ReplaceInput(int pid);

    /// <summary>The process rebuilt at home (not let run yet) gets a new pipe as descriptor <paramref name="fd"/>, an
    /// output; returns the read end.</summary>
    SafeFileHandle ReplaceOutput(int pid, int fd) => throw new NotSupportedException("this deputy host cannot replace outputs");

    /// <summary>The process that came home runs: its threads are made now, once its copy gave their ids back.</summary>
    void LetRun(int pid);

    /// <summary>Closes <paramref name="fd"/> in the deputy (its copy closed that forwarded descriptor); what close returned.</summary>
    long CloseDescriptor(int pid, int fd) => 0;

    /// <summary>Gives the deputy omd's descriptor <paramref name="fd"/> under <paramref name="number"/> (a connection
    /// accepted for its copy, a second name of a forwarded one), so the process has it when it comes home; 0 or a
    /// negated errno.</summary>
    long PutDescriptor(int pid, SafeHandle fd, int number) => -(long)Errno.ENOSYS;

    /// <summary>Moves the deputy's descriptor <paramref name="from"/> (one it made for its copy) to
    /// <paramref name="number"/>, its copy's number for it; 0 or a negated errno (then <paramref name="from"/> is closed).</summary>
    long MoveDescriptor(int pid, int from, int number)
    {
        CloseDescriptor(pid, from);
        return -(long)Errno.ENOSYS;
    }

    /// <summary>The deputy makes call <paramref name="number"/> itself (a wait for a child, a signal to one), with
    /// <paramref name="scratch"/> in its memory at the address <paramref name="arguments"/> gets; what it returned.</summary>
    long CallInDeputy(int pid, long number, byte[] scratch, Func<long, long[]> arguments) =>
        throw new NotSupportedException("this deputy host cannot make calls in a deputy");

    /// <summary>The copy was stopped by <paramref name="signal"/> (or continued: 0) on its own node: the deputy stops (or
    /// goes on) too, without that being forwarded back to the copy; nothing when it is so already.</summary>
    void FollowCopy(int pid, int signal)
    {
    }

    /// <summary>Raised (on any thread) for a signal sent to the deputy, which was kept from it, for forwarding.</summary>
    event Action<int, ArrivedSignal>? SignalArrived;

    /// <summary>Raised (on any thread) when a deputy ended by itself (SIGKILL cannot be intercepted).</summary>
    event Action<int>? DeputyDied;
}
