namespace OpenMosix.Balancing.Policy;

/// <summary>When a process that has just exec'd should be placed on the node where it runs fastest.</summary>
public enum ExecTiming
{
    /// <summary>Place it now (where: <see cref="StartPlacement"/>).</summary>
    Now,
    /// <summary>Its program is unknown: let it run at home through its probation, then place it if it still runs.</summary>
    AfterProbation,
    /// <summary>Its program's runs are too short to repay a move: it is not placed at exec (the balancer still weighs
    /// it each round, like any process).</summary>
    Never,
}

/// <summary><see cref="Wait"/> is how much longer it runs at home before it is placed (AfterProbation only).</summary>
public readonly record struct ExecVerdict(ExecTiming Timing, TimeSpan Wait = default);

/// <summary>
/// Whether a process just started (a managed process's child, at its exec, while its image is still tiny) is worth
/// moving, from what its program's past runs say, its age, and the measured cost of moving a small process. A move
/// pays when the process has more life left than <see cref="BalancerOptions.CostFactor"/> times that cost. A known
/// program's typical lifetime tells how much is left; of an unknown one nothing is known but its age, and a process
/// that has lived T is likely to live about T more (Harchol-Balter and Downey, 1997), so it is placed once its age
/// alone repays the move: its probation is CostFactor × the move cost. Pure.
/// </summary>
public static class ExecPlacement
{
    /// <summary>How long omd watches a process of a known long-lived program before placing it: long enough to tell
    /// a CPU-bound run from one that sleeps (`sleep 60` lives long, and gains nothing from a faster node).</summary>
    public static readonly TimeSpan Glance = TimeSpan.FromMilliseconds(20);

    /// <summary>Whether a process that wanted a CPU (ran, or waited to run) for <paramref name="wanting"/> of the
    /// <paramref name="age"/> since its exec is CPU-bound enough to be placed for load: at least half of it.</summary>
    public static bool WantsCpu(TimeSpan wanting, TimeSpan age) => age > TimeSpan.Zero && wanting >= age / 2;

    /// <param name="typicalLifetime">How long the program's past runs lived (null: not known yet).</param>
    /// <param name="age">How long this process has run.</param>
    /// <param name="moveCost">What moving a small process costs (freeze to running again).</param>
    public static ExecVerdict Decide(TimeSpan? typicalLifetime, TimeSpan age, TimeSpan moveCost, BalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var repays = moveCost * Math.Max(options.CostFactor, 0);
        if (typicalLifetime is { } typical)
            return typical - age > repays ? new ExecVerdict(ExecTiming.Now) : new ExecVerdict(ExecTiming.Never);
        return age >= repays ? new ExecVerdict(ExecTiming.Now) : new ExecVerdict(ExecTiming.AfterProbation, repays - age);
    }
}
