using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Daemon.Migration.Engine;

/// <summary>The migration's engine calls on the real <see cref="CheckpointEngine"/>: images read and written in the image format.</summary>
public sealed class EngineMigration(CheckpointEngine engine) : IMigrationEngine
{
    // A migration leaves what cannot travel at home and forwards it (docs/forwarding.md).
    public CantMoveReport AnalyzeCantMove(int pid) => engine.AnalyzeCantMove(pid, forwarding: true);

    public IPrecopyRounds? StartPrecopy(int pid) => engine.StartPrecopy(pid, forward: true) is { } session ? new Rounds(session) : null;

    public void CheckpointFrozen(int pid, Stream image, IPrecopyRounds? precopy = null, ICarriedOutCalls? carriedOut = null)
    {
        using var writer = new ImageWriter(image, new ImageWriterOptions(LeaveOpen: true));
        engine.Checkpoint(pid, writer, new DumpOptions(AfterDump.KeepFrozen)
        {
            Precopy = (precopy as Rounds)?.Session, ForwardDescriptors = true, CarriedOut = carriedOut, Forwarded = Also(pid),
            WhileFrozen = WhileFrozen,
        });
    }

    /// <summary>For tests (omd.toml checkpoint.test_hold_file): called once a process checkpointed here (for a
    /// checkpoint or a trip, with post-copy or without) is frozen.</summary>
    public Action<int>? WhileFrozen { get; init; }

    /// <summary>For tests (omd.toml checkpoint.test_hold_after_image_file): called once the move of a process whose
    /// image was read here succeeded, before it is let go of here.</summary>
    public Action<int>? AfterImage { get; init; }

    void IMigrationEngine.AfterImage(int pid) => AfterImage?.Invoke(pid);

    public IReadOnlyList<int> EndFrozen(int pid) => engine.EndFrozen(pid);

    public void CheckpointFrozenLeavingMemory(int pid, Stream image, IPrecopyRounds? precopy = null)
    {
        using var writer = new ImageWriter(image, new ImageWriterOptions(LeaveOpen: true));
        engine.Checkpoint(pid, writer, new DumpOptions(AfterDump.KeepFrozen)
        {
            Precopy = (precopy as Rounds)?.Session, ForwardDescriptors = true, LeaveLazyMemory = true, Forwarded = Also(pid),
            WhileFrozen = WhileFrozen,
        });
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, IReadOnlySet<int>> _also = new();

    public void ForwardAlso(int pid, IReadOnlyCollection<int> fds)
    {
        if (fds.Count == 0) _also.TryRemove(pid, out _);
        else _also[pid] = fds.ToHashSet();
    }

    /// <summary>What the target of this move lacks (<see cref="ForwardAlso"/>), for this image only; null: nothing more.</summary>
    private IReadOnlySet<int>? Also(int pid) => _also.TryRemove(pid, out var fds) ? fds : null;

    public IIncomingProcess ReceivePostcopy(Func<ProcessImage, IReadOnlyDictionary<int, int>> descriptorsFor, Func<ProcessImage, string?> refusal, bool forwardPaths,
        Checkpoint.Postcopy.IPageSource pages, bool forwardSockets = false) =>
        new Incoming(engine, new RestoreOptions
        {
            KeepFrozen = true, ForwardDescriptors = true, ForwardPaths = forwardPaths, ForwardSockets = forwardSockets, ControllingTerminal = true, DescriptorsFor = descriptorsFor, Refusal = refusal,
            WaitForOriginalThreadIds = ThreadIdPatience, LazyPages = pages, LazyWholeRegions = true,
        });

    public void Thaw(int pid) => engine.Thaw(pid);

    public void ForwardedLater(int pid, int fd, bool open) => engine.ForwardsLater(pid, fd, open);

    public IIncomingProcess Receive(Func<ProcessImage, IReadOnlyDictionary<int, int>> descriptorsFor, Func<ProcessImage, string?> refusal) =>
        Receive(descriptorsFor, refusal, forwardPaths: false);

    public IIncomingProcess Receive(Func<ProcessImage, IReadOnlyDictionary<int, int>> descriptorsFor, Func<ProcessImage, string?> refusal, bool forwardPaths,
        bool forwardSockets = false) =>
        new Incoming(engine, new RestoreOptions
        {
            KeepFrozen = true, ForwardDescriptors = true, ForwardPaths = forwardPaths, ForwardSockets = forwardSockets, ControllingTerminal = true, DescriptorsFor = descriptorsFor, Refusal = refusal,
            WaitForOriginalThreadIds = ThreadIdPatience, WaitForOriginalLockerIds = LockerIdPatience,
        });

    /// <summary>How long a copy's threads wait for their ids while the original (in the same PID namespace) still holds them.</summary>
    internal static readonly TimeSpan ThreadIdPatience = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The same for a thread taken while locking a robust mutex, which cannot go on under another id
    /// (RobustLockers): the original gives the ids back once home made it a deputy (a move away) or the copy's node
    /// killed it (a trip home): milliseconds mostly (at most 89 ms in 34 lab moves at load 42-63), but nothing
    /// bounds it on a loaded node, and past the 2 s the thread could not go on. Not for a post-copy copy: its original
    /// keeps them until the copy has all its pages.
    /// </summary>
    internal static readonly TimeSpan LockerIdPatience = TimeSpan.FromSeconds(30);

    public void KillFrozen(int pid) => engine.KillFrozen(pid);

    public Task<ExitStatus> WhenExited(int pid) => engine.WhenExited(pid);

    public Task<ExitStatus> AdoptGuest(int pid) => engine.AdoptGuest(pid);

    public void WatchJobControl(int pid, Action<int> changed) => engine.WatchJobControl(pid, changed);

    private sealed class Rounds(PrecopySession session) : IPrecopyRounds
    {
        public PrecopySession Session { get; } = session;
        int IPrecopyRounds.Rounds => Session.Rounds;

        public void WriteRound(Stream image)
        {
            using var writer = new ImageWriter(image, new ImageWriterOptions(LeaveOpen: true));
            Session.WriteRound(writer);
        }

        public ulong PendingBytes() => Session.PendingBytes();

        public void Dispose() => Session.Dispose();
    }

    private sealed class Incoming(CheckpointEngine engine, RestoreOptions options) : IIncomingProcess
    {
        private PrecopyTarget? _stub;
        private RestoreOptions _options = options;

        public void TakeRound(Stream round)
        {
            using var reader = new ImageReader(round, leaveOpen: true);
            if (_stub is null) _stub = engine.BeginPrecopyRestore(reader, _options);
            else engine.ContinuePrecopyRestore(_stub, reader);
        }

        public RestoredProcess Finish(Stream image)
        {
            using var reader = new ImageReader(image, leaveOpen: true);
            return _stub is null ? engine.Restore(reader, _options) : engine.FinishPrecopyRestore(_stub, reader, _options);
        }

        public bool LeaveMemoryAtHome(Checkpoint.Postcopy.IPageSource pages)
        {
            _options = _options with { LazyPages = pages, LazyWholeRegions = true };
            return true;
        }

        public void Abandon()
        {
            if (_stub is not null) engine.AbandonPrecopyRestore(_stub);
        }
    }
}
