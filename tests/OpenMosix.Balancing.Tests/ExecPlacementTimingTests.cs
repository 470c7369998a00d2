using OpenMosix.Balancing.Policy;

namespace OpenMosix.Balancing.Tests;

public sealed class ExecPlacementTimingTests
{
    private static readonly TimeSpan MoveCost = TimeSpan.FromMilliseconds(50);

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void A_program_known_to_run_long_is_placed_after_a_glance()
    {
        Assert.Equal(new ExecTiming(false, ExecPlacementTiming.Glance), ExecPlacementTiming.Decide(TimeSpan.FromMinutes(10), MoveCost));
        Assert.Equal(Ms(20), ExecPlacementTiming.Glance);
    }

    [Fact]
    public void A_program_known_to_run_exactly_ten_move_costs_is_worth_moving_and_one_a_bit_shorter_is_not()
    {
        Assert.False(ExecPlacementTiming.Decide(MoveCost * ExecPlacementTiming.WorthFactor, MoveCost).Never);
        Assert.Equal(ExecTiming.Skip, ExecPlacementTiming.Decide(MoveCost * ExecPlacementTiming.WorthFactor - Ms(1), MoveCost));
    }

    [Fact]
    public void A_program_known_to_end_soon_is_never_placed()
    {
        var timing = ExecPlacementTiming.Decide(Ms(3), MoveCost);
        Assert.True(timing.Never);
        Assert.Equal(ExecTiming.Skip, timing);
    }

    [Fact]
    public void An_unknown_program_waits_three_move_costs_and_never_less_than_100_ms()
    {
        Assert.Equal(new ExecTiming(false, Ms(100)), ExecPlacementTiming.Decide(null, Ms(10)));
        Assert.Equal(new ExecTiming(false, Ms(150)), ExecPlacementTiming.Decide(null, MoveCost));
        Assert.Equal(new ExecTiming(false, Ms(1500)), ExecPlacementTiming.Decide(null, Ms(500)));
        Assert.Equal(new ExecTiming(false, Ms(100)), ExecPlacementTiming.Decide(null, TimeSpan.Zero));
    }

    [Fact]
    public void A_dearer_move_asks_more_of_a_known_program()
    {
        var typical = TimeSpan.FromSeconds(2);
        Assert.False(ExecPlacementTiming.Decide(typical, Ms(100)).Never);
        Assert.True(ExecPlacementTiming.Decide(typical, Ms(300)).Never);
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
        Assert.Equal(wants, ExecPlacementTiming.WantsCpu(Ms(wantingMs), Ms(ageMs)));
    }
}
