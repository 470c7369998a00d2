using OpenMosix.Daemon.Migration.Engine;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>What every part of the home side works with: the engine, the deputies, the registry, the relays.</summary>
internal sealed class HomeSide(IMigrationEngine engine, IDeputyHost deputies, ProcessRegistry registry, Func<ushort> selfNode, ILogger logger)
{
    /// <summary>How long the other end may take to answer a step of the protocol.</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    public IMigrationEngine Engine { get; } = engine;
    public IDeputyHost Deputies { get; } = deputies;
    public ProcessRegistry Registry { get; } = registry;
    public ILogger Logger { get; } = logger;
    public RelayTable Relays { get; } = new();
    public ushort Self => selfNode();
    /// <summary>Directories whose files stay this node's: a moved process's files there are served from here.</summary>
    public Checkpoint.CantMove.HomePaths HomePaths { get; set; } = Checkpoint.CantMove.HomePaths.None;
    /// <summary>Whether this node makes the sockets its moved processes create away (forwarding.sockets_created_away =
    /// "home"), as openMosix did; false: they are the node's where each runs.</summary>
    public bool SocketsAtHome { get; set; } = true;
    /// <summary>Where moves are counted as they end (/metrics).</summary>
    public Web.Metrics.MigrationCounters Counters { get; set; } = new();
    /// <summary>Where the checkpoints of processes running away are kept; null: none are taken.</summary>
    public Checkpoints.CheckpointStore? Checkpoints { get; set; }
    /// <summary>How often a process running away is checkpointed (checkpoint.interval_ms).</summary>
    public TimeSpan CheckpointEvery { get; set; }
    /// <summary>Where the processes away are saved for an omd that takes over after this one dies; null: not saved.</summary>
    public AwayStateFile? Away { get; set; }
    /// <summary>Asks the copy's node, within the takeover window, to relay a process on a new link (after its omd
    /// there was killed and replaced); completes with null once the relay runs again, or with why not. Null: never.
    /// The input ledger of the relay that ended goes on in the new one, which sends again what that node did not write.</summary>
    public Func<ManagedProcess, SavedAway, DeliveredCounts, InputLedger?, Task<ResumeAnswer>>? ResumeAway { get; set; }
    /// <summary>Signals to deputies whose copies wait for <see cref="ResumeAway"/>.</summary>
    public SignalsOnHold SignalsOnHold { get; } = new();
    /// <summary>This node's memory now (null: not known), and the fraction of it to keep free.</summary>
    public Func<Migration.Checkpoints.NodeMemory?> Memory { get; set; } = () => null;
    public double KeepFreeFraction { get; set; } = 0.10;
    /// <summary>MiB/s each move out may send at most (migration.bandwidth_limit_mib_s); 0: no limit.</summary>
    public int BandwidthLimit { get; set; }

    /// <summary>Where a process restarted here from its checkpoint goes on to, leaving out the node it was lost on
    /// (null: it stays here); null when restarted processes stay home (balancing is off).</summary>
    public Func<ManagedProcess, ushort, ushort?>? RestartTarget { get; set; }

    /// <summary>Moves a process here out to a node (the move home makes for the balancer).</summary>
    public Func<ManagedProcess, ushort, Task>? MoveOut { get; set; }

    private int _movesOut;
    private long _lastMoveOutEnded = -1;

    /// <summary>Moves out under way (their offer sent, their copy not yet running there).</summary>
    public int MovesOut => Volatile.Read(ref _movesOut);

    /// <summary>Counts a move out until the returned handle is disposed.</summary>
    public IDisposable MovingOut()
    {
        Interlocked.Increment(ref _movesOut);
        return new Counted(() =>
        {
            Interlocked.Exchange(ref _lastMoveOutEnded, Environment.TickCount64);
            Interlocked.Decrement(ref _movesOut);
        });
    }

    /// <summary>Why merging a checkpoint waits now (<see cref="Migration.Checkpoints.CheckpointDeferral.HomeBusy"/>), or null.</summary>
    public string? BusyForCheckpoints()
    {
        var ended = Interlocked.Read(ref _lastMoveOutEnded);
        TimeSpan? since = ended < 0 ? null : TimeSpan.FromMilliseconds(Environment.TickCount64 - ended);
        return Migration.Checkpoints.CheckpointDeferral.HomeBusy(Memory(), MovesOut, since, KeepFreeFraction);
    }

    private sealed class Counted(Action release) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) release();
        }
    }
}
