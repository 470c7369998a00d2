using OpenMosix.Balancing.Demand;

namespace OpenMosix.Balancing.Tests;

public sealed class DemandEstimatorTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void A_busy_process_measures_a_whole_cpu_and_an_idle_one_none()
    {
        var busy = new DemandEstimator();
        var idle = new DemandEstimator();
        for (var i = 0; i < 10; i++)
        {
            busy.Add(Second, Second);
            idle.Add(TimeSpan.Zero, Second);
        }
        Assert.Equal(1.0, busy.Demand, 3);
        Assert.Equal(0.0, idle.Demand, 3);
    }

    [Fact]
    public void Fast_decay_follows_a_change_of_phase_sooner_than_slow_decay()
    {
        var fast = new DemandEstimator(DecayMode.Fast);
        var slow = new DemandEstimator(DecayMode.Slow);
        foreach (var e in new[] { fast, slow })
        {
            for (var i = 0; i < 30; i++) e.Add(Second, Second);
            for (var i = 0; i < 8; i++) e.Add(TimeSpan.Zero, Second);
        }
        Assert.True(fast.Demand < 0.3, $"fast decay still at {fast.Demand:F2} after 8 idle seconds");
        Assert.True(slow.Demand > 0.8, $"slow decay already at {slow.Demand:F2}");
    }

    [Fact]
    public void Without_decay_the_demand_is_the_lifetime_average()
    {
        var e = new DemandEstimator(DecayMode.None);
        for (var i = 0; i < 30; i++) e.Add(Second, Second);
        for (var i = 0; i < 10; i++) e.Add(TimeSpan.Zero, Second);
        Assert.Equal(0.75, e.Demand, 3);
    }

    [Fact]
    public void Cpujob_and_iojob_hints_override_the_measurement()
    {
        var cpu = new DemandEstimator(hint: JobHint.Cpu);
        var io = new DemandEstimator(hint: JobHint.Io);
        cpu.Add(TimeSpan.Zero, Second);
        io.Add(Second, Second);
        Assert.Equal((1.0, 0.0), (cpu.Demand, io.Demand));
    }

    [Fact]
    public void A_hinted_process_keeps_its_hint_whatever_its_decay_mode()
    {
        var cpu = new DemandEstimator(DecayMode.None, JobHint.Cpu);
        var io = new DemandEstimator(DecayMode.Fast, JobHint.Io);
        for (var i = 0; i < 10; i++)
        {
            cpu.Add(TimeSpan.Zero, Second);
            io.Add(Second, Second);
        }
        Assert.Equal((1.0, 0.0), (cpu.Demand, io.Demand));
    }

    [Fact]
    public void One_half_life_of_idling_halves_the_demand_with_custom_rates()
    {
        var rates = new DecayRates(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2));
        var slow = new DemandEstimator(DecayMode.Slow, rates: rates);
        var fast = new DemandEstimator(DecayMode.Fast, rates: rates);
        foreach (var e in new[] { slow, fast }) e.Add(Second, Second);
        slow.Add(TimeSpan.Zero, TimeSpan.FromSeconds(10));
        fast.Add(TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.Equal((0.5, 0.5), (Math.Round(slow.Demand, 6), Math.Round(fast.Demand, 6)));
    }

    [Fact]
    public void New_half_lives_apply_from_the_next_sample_on()
    {
        var rates = DecayRates.Default;
        var e = new DemandEstimator(DecayMode.Slow, JobHint.Measured, () => rates);
        e.Add(Second, Second);
        e.Add(TimeSpan.Zero, Second);
        var beforeChange = e.Demand;
        rates = new DecayRates(Second, Second);
        e.Add(TimeSpan.Zero, Second);
        Assert.Equal(Math.Pow(0.5, 1.0 / 60), beforeChange, 6);
        Assert.Equal(beforeChange / 2, e.Demand, 6);
    }

    [Fact]
    public void No_decay_ignores_the_half_lives()
    {
        var e = new DemandEstimator(DecayMode.None, rates: new DecayRates(Second, TimeSpan.FromMilliseconds(100)));
        e.Add(Second, Second);
        e.Add(TimeSpan.Zero, TimeSpan.FromSeconds(3));
        Assert.Equal(0.25, e.Demand, 6);
    }

    [Theory]
    [InlineData(60_000, 4_000, null)]
    [InlineData(5_000, 5_000, null)]
    [InlineData(4_000, 60_000, "the fast half-life (60 s) must not be longer than the slow one (4 s)")]
    [InlineData(0, 4_000, "the slow half-life must be between 0.1 s and 86400 s (got 0 s)")]
    [InlineData(60_000, 50, "the fast half-life must be between 0.1 s and 86400 s (got 0.05 s)")]
    [InlineData(100_000_000, 4_000, "the slow half-life must be between 0.1 s and 86400 s (got 100000 s)")]
    public void Decay_rates_name_what_is_wrong_with_them(int slowMs, int fastMs, string? problem) =>
        Assert.Equal(problem, new DecayRates(TimeSpan.FromMilliseconds(slowMs), TimeSpan.FromMilliseconds(fastMs)).Problem());
}
