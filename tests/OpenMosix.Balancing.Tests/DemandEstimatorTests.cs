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
}
