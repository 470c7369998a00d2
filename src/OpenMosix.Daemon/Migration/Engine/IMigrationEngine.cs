using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Daemon.Migration.Engine;

/// <summary>
/// What the two ends of a migration ask of the checkpoint engine, with images as plain streams (the link's). Behind
/// it is <see cref="CheckpointEngine"/> (ptrace, root); tests put a fake behind it to drive the protocol alone.
/// </summary>
public interface IMigrationEngine
{
    CantMoveReport AnalyzeCantMove(int pid);

    /// <summary>Starts copying a running process's memory in rounds; null when this kernel cannot track writes.</summary>
    IPrecopyRounds? StartPrecopy(int pid);

    /// <summary>Writes the image of <paramref name="pid"/> and keeps it frozen (on failure it runs on and the error
    /// is rethrown). With <paramref name="precopy"/>, only what changed since its last round. Interrupted calls that
    /// <paramref name="carriedOut"/> knows were carried out already are recorded as returned.</summary>
    void CheckpointFrozen(int pid, Stream image, IPrecopyRounds? precopy = null, ICarriedOutCalls? carriedOut = null);

    /// <summary>Post-copy: as <see cref="CheckpointFrozen"/>, leaving the pages of private anonymous memory out of the
    /// image (the process, kept frozen, serves them); after pre-copy rounds (<paramref name="precopy"/>) only what
    /// changed since the last one.</summary>
    void CheckpointFrozenLeavingMemory(int pid, Stream image, IPrecopyRounds? precopy = null) =>
        throw new NotSupportedException("this engine cannot leave memory out of an image (post-copy)");

    /// <summary>Post-copy: rebuilds an incoming process whose image left its private anonymous memory out; the pages
    /// come from <paramref name="pages"/> on fault and in the background (<see cref="RestoredProcess.Postcopy"/>).</summary>
    IIncomingProcess ReceivePostcopy(Func<ProcessImage, IReadOnlyDictionary<int, int>> descriptorsFor, Func<ProcessImage, string?> refusal, bool forwardPaths,
        Checkpoint.Postcopy.IPageSource pages, bool forwardSockets = false) =>
        throw new NotSupportedException("this engine cannot restore a process without its memory (post-copy)");

    /// <summary>The next image of <paramref name="pid"/> (a move from home) leaves descriptors <paramref name="fds"/> at
    /// home, forwarded, besides those it always does: files the target lacks.</summary>
    void ForwardAlso(int pid, IReadOnlyCollection<int> fds)
    {
    }

    /// <summary>A copy restored here got forwarded number <paramref name="fd"/> while away (<paramref name="open"/>), held
    /// at home by its deputy, or closed it: its trip home records it as forwarded.</summary>
    void ForwardedLater(int pid, int fd, bool open)
    {
    }

    /// <summary>Lets a process kept frozen run on where it is.</summary>
    void Thaw(int pid);

    /// <summary>Rebuilds an incoming process, frozen, from pre-copy rounds (if any) and its final image; an image
    /// <paramref name="refusal"/> finds fault with is refused before anything is built of it
    /// (<see cref="ImageRefusedException"/>).</summary>
    IIncomingProcess Receive(Func<ProcessImage, IReadOnlyDictionary<int, int>> descriptorsFor, Func<ProcessImage, string?> refusal);

    /// <summary>As <see cref="Receive(Func{ProcessImage, IReadOnlyDictionary{int, int}}, Func{ProcessImage, string?})"/>; with
    /// <paramref name="forwardPaths"/> (its home has home paths) the copy's calls on paths are handed to its forwarder too;
    /// with <paramref name="forwardSockets"/> (its home makes its sockets) its socket calls of the internet families.</summary>
    IIncomingProcess Receive(Func<ProcessImage, IReadOnlyDictionary<int, int>> descriptorsFor, Func<ProcessImage, string?> refusal, bool forwardPaths,
        bool forwardSockets = false) =>
        Receive(descriptorsFor, refusal);

    /// <summary>Kills a process kept frozen (a copy not committed, or one that went home).</summary>
    void KillFrozen(int pid);

    /// <summary>Ends <paramref name="pid"/>, kept frozen by a checkpoint here after a move that succeeded (a copy that
    /// went home, or on), and returns the signals that reached it since its image was read: they are not in the image,
    /// and go where the process runs next.</summary>
    IReadOnlyList<int> EndFrozen(int pid)
    {
        KillFrozen(pid);
        return [];
    }

    /// <summary>For tests: the move of <paramref name="pid"/>, whose image was read here, succeeded; it is about to be
    /// let go of here (made a deputy, or killed).</summary>
    void AfterImage(int pid)
    {
    }

    /// <summary>Completes when a restored process has ended.</summary>
    Task<ExitStatus> WhenExited(int pid);

    /// <summary>Reports each stop (its signal) and resumption (0) of a restored process watched by
    /// <see cref="WhenExited"/>, on a thread that must not wait; engines that cannot watch them report nothing.</summary>
    void WatchJobControl(int pid, Action<int> changed)
    {
    }

    /// <summary>Traces a copy a dead omd left (not this process's child) for the rest of its stay; completes when it
    /// has ended, with its status.</summary>
    Task<ExitStatus> AdoptGuest(int pid);
}

/// <summary>The pre-copy of one running process at home.</summary>
public interface IPrecopyRounds : IDisposable
{
    int Rounds { get; }

    void WriteRound(Stream image);

    /// <summary>Bytes written since the last round began: what the next round, or the freeze, would send.</summary>
    ulong PendingBytes();
}

/// <summary>One process being rebuilt on the target.</summary>
public interface IIncomingProcess
{
    void TakeRound(Stream round);

    RestoredProcess Finish(Stream image);

    /// <summary>Post-copy (after any rounds taken): the final image leaves memory at home, fetched from
    /// <paramref name="pages"/>. False when this process cannot be finished so (the caller starts afresh).</summary>
    bool LeaveMemoryAtHome(Checkpoint.Postcopy.IPageSource pages) => false;

    /// <summary>Drops what the rounds built (no-op once finished).</summary>
    void Abandon();
}
