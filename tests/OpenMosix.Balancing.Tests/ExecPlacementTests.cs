using OpenMosix.Balancing.Policy;

namespace OpenMosix.Balancing.Tests;

public sealed class ExecPlacementTests
{
    private static readonly TimeSpan MoveCost = TimeSpan.FromMilliseconds(40);
    private static readonly BalancerOptions Options = new() { CostFactor = 2 };

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void A_known_program_whose_runs_last_long_enough_to_repay_the_move_is_placed_at_once()
    {
        Assert.Equal(new ExecVerdict(ExecTiming.Now), ExecPlacement.Decide(TimeSpan.FromSeconds(1.5), TimeSpan.Zero, MoveCost, Options));
    }

    [Fact]
    public void A_known_program_whose_runs_are_too_short_to_repay_the_move_is_never_placed()
    {
        Assert.Equal(ExecTiming.Never, ExecPlacement.Decide(Ms(10), TimeSpan.Zero, MoveCost, Options).Timing);
        // Exactly the cost times the factor gains nothing: the move must buy back more than it costs.
        Assert.Equal(ExecTiming.Never, ExecPlacement.Decide(Ms(80), TimeSpan.Zero, MoveCost, Options).Timing);
        // Life already spent counts against what is left.
        Assert.Equal(ExecTiming.Never, ExecPlacement.Decide(Ms(100), Ms(50), MoveCost, Options).Timing);
    }

    [Fact]
    public void An_unknown_program_waits_a_probation_of_the_cost_factor_times_the_move_cost_then_is_placed()
    {
        Assert.Equal(new ExecVerdict(ExecTiming.AfterProbation, Ms(80)), ExecPlacement.Decide(null, TimeSpan.Zero, MoveCost, Options));
        Assert.Equal(new ExecVerdict(ExecTiming.AfterProbation, Ms(50)), ExecPlacement.Decide(null, Ms(30), MoveCost, Options));
        Assert.Equal(ExecTiming.Now, ExecPlacement.Decide(null, Ms(80), MoveCost, Options).Timing);
        Assert.Equal(ExecTiming.Now, ExecPlacement.Decide(null, Ms(500), MoveCost, Options).Timing);
    }

    [Fact]
    public void The_probation_grows_in_proportion_to_the_move_cost_and_the_cost_factor()
    {
        Assert.Equal(Ms(120), ExecPlacement.Decide(null, TimeSpan.Zero, Ms(60), Options).Wait);
        Assert.Equal(Ms(120), ExecPlacement.Decide(null, TimeSpan.Zero, MoveCost, Options with { CostFactor = 3 }).Wait);
    }
}
