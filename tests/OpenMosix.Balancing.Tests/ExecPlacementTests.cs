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

    [Theory]
    [InlineData(100, 100, true)]
    [InlineData(50, 100, true)]
    [InlineData(49, 100, false)]
    [InlineData(0, 100, false)]
    [InlineData(180, 100, true)] // waiting on a crowded node counts as wanting
    [InlineData(0, 0, false)]
    [InlineData(5, 0, false)] // no age yet: nothing is known
    public void A_process_wants_a_cpu_when_it_ran_or_waited_to_run_at_least_half_its_age(double wantingMs, double ageMs, bool wants)
    {
        Assert.Equal(wants, ExecPlacement.WantsCpu(Ms(wantingMs), Ms(ageMs)));
    }
}
