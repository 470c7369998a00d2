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
    /// <summary>Where moves are counted as they end (/metrics).</summary>
    public Web.Metrics.MigrationCounters Counters { get; set; } = new();
    /// <summary>Where the checkpoints of processes running away are kept; null: none are taken.</summary>
    public Checkpoints.CheckpointStore? Checkpoints { get; set; }
    /// <summary>How often a process running away is checkpointed (checkpoint.interval_ms).</summary>
    public TimeSpan CheckpointEvery { get; set; }
    /// <summary>Where the processes away are saved for an omd that takes over after this one dies; null: not saved.</summary>
    public AwayStateFile? Away { get; set; }
}
