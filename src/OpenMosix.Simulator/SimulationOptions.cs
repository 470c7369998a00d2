using OpenMosix.Balancing;
using OpenMosix.Simulator.Specs;

namespace OpenMosix.Simulator;

/// <summary>Where jobs go: openmosix (start where they arrive, then the real balancer), none (stay where they
/// arrive), random or roundrobin (placed once on arrival, never moved).</summary>
public enum PlacementPolicy
{
    OpenMosix,
    None,
    Random,
    RoundRobin,
}

public sealed record SimulationOptions
{
    public int Nodes { get; init; } = 100;
    public JobSpec Jobs { get; init; } = JobSpec.Parse("1000");
    /// <summary>Process trees instead of <see cref="Jobs"/> (null: independent jobs).</summary>
    public TreeSpec? Trees { get; init; }
    /// <summary>What moving a small process (a child placed at exec, its image still tiny) costs, from freeze to
    /// running again, in seconds; it is also the move cost placement weighs.</summary>
    public double SmallMoveSeconds { get; init; } = 0.04;
    /// <summary>openmosix places the children of trees as they are born (<see cref="OpenMosix.Balancing.Policy.ExecPlacement"/>);
    /// off, the balancer alone moves them.</summary>
    public bool PlaceAtExec { get; init; } = true;
    public SpeedSpec Speeds { get; init; } = SpeedSpec.Parse("10000");
    public PlacementPolicy Policy { get; init; } = PlacementPolicy.OpenMosix;
    public int Seed { get; init; } = 1;
    public int Cpus { get; init; } = 1;
    public double NodeMemoryMiB { get; init; } = 4096;
    public double BandwidthMBps { get; init; } = 100;
    /// <summary>Nodes that die at random times in the first half of the ideal makespan (their jobs, and the jobs whose
    /// home they were, are lost).</summary>
    public int Failures { get; init; }
    /// <summary>How many other nodes' load each node knows at a time (the gossip window).</summary>
    public int Window { get; init; } = 16;
    /// <summary>How often every node runs the balancer, in virtual seconds.</summary>
    public double TickSeconds { get; init; } = 1;
    public BalancerOptions Balancer { get; init; } = new();
}

/// <summary>What a run produced. Ideal is the lower bound: all work over all capacity, or the longest job on the
/// fastest node from its arrival (for trees: the longest tree's critical path), whichever is later. Slowdown is a job's
/// response time over its time alone on the fastest node. Migrations are the balancer's moves; placements, children
/// placed as they are born.</summary>
public sealed record SimulationReport(
    string Policy,
    int Nodes,
    int Jobs,
    double Makespan,
    double Ideal,
    double MeanSlowdown,
    long Migrations,
    double MigrationsPerJob,
    long Placements,
    double GigabytesMoved,
    int JobsLost,
    double OvercommittedNodeSeconds,
    long BalancerRounds,
    double WallSeconds)
{
    public double MakespanOverIdeal => Ideal > 0 ? Makespan / Ideal : 0;
}
