namespace OpenMosix.Balancing.Policy;

/// <summary>When a process that just exec'd should be considered for placement elsewhere: <see cref="After"/> that
/// long after its exec, if by then it has wanted a CPU at least half of that time (<see cref="ExecPlacementTiming"/>).</summary>
public readonly record struct ExecTiming(bool Never, TimeSpan After)
{
    public static readonly ExecTiming Skip = new(true, TimeSpan.Zero);
}

/// <summary>
/// Whether a process that just exec'd is worth moving, and when. A program whose past runs here lasted at least
/// <see cref="WorthFactor"/> times what moving a small process costs is placed at once, while its image is tiny (after
/// a <see cref="Glance"/> long enough to tell a CPU-bound run from one that sleeps, as `sleep 60` does); one
/// whose runs were shorter is left where it is (the move would cost more than it could win back). A program never
/// seen to end is placed once it has lived <see cref="ProbationFactor"/> move costs, and not before
/// <see cref="MinimumProbation"/>: Harchol-Balter and Downey measured that a Unix process which has lived T tends to
/// live about T more, so one that has outlived a few move costs is likely to repay its move, and the many that end
/// within milliseconds (a shell's `test`, `sed` in a pipeline) are never moved. Pure.
/// </summary>
public static class ExecPlacementTiming
{
    public const double WorthFactor = 10, ProbationFactor = 3;
    public static readonly TimeSpan MinimumProbation = TimeSpan.FromMilliseconds(100), Glance = TimeSpan.FromMilliseconds(20);

    /// <summary>Whether a process that wanted a CPU (ran or waited to run) for <paramref name="wanting"/> of the
    /// <paramref name="age"/> since its exec is CPU-bound enough to move for load.</summary>
    public static bool WantsCpu(TimeSpan wanting, TimeSpan age) => age > TimeSpan.Zero && wanting >= age / 2;

    public static ExecTiming Decide(TimeSpan? typicalLifetime, TimeSpan moveCost)
    {
        if (typicalLifetime is { } typical)
            return typical >= moveCost * WorthFactor ? new ExecTiming(false, Glance) : ExecTiming.Skip;
        var probation = moveCost * ProbationFactor;
        return new ExecTiming(false, probation > MinimumProbation ? probation : MinimumProbation);
    }
}
