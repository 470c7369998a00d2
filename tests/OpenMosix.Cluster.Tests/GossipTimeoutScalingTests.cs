using OpenMosix.Cluster.Gossip;

namespace OpenMosix.Cluster.Tests;

public sealed class GossipTimeoutScalingTests
{
    private static readonly GossipOptions Defaults = new();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void A_cluster_where_every_node_reaches_every_other_each_round_keeps_the_configured_timeouts(int size) =>
        Assert.Same(Defaults, Defaults.ScaledFor(size));

    [Fact]
    public void Timeouts_never_drop_below_the_configured_minimums_and_keep_their_ratio()
    {
        var generous = Defaults with { SuspectAfter = TimeSpan.FromHours(1), DeadAfter = TimeSpan.FromHours(2) };
        Assert.Same(generous, generous.ScaledFor(1000));

        var scaled = Defaults.ScaledFor(1000);
        Assert.True(scaled.SuspectAfter > Defaults.SuspectAfter);
        Assert.Equal(Defaults.DeadAfter / Defaults.SuspectAfter, scaled.DeadAfter / scaled.SuspectAfter, 6);
        Assert.Equal(Defaults.Interval, scaled.Interval);
        Assert.Equal(Defaults.Fanout, scaled.Fanout);
    }

    [Fact]
    public void The_suspect_timeout_grows_like_N_log_N_beyond_a_few_dozen_nodes()
    {
        // Mean refresh gap N / (fanout × 17) rounds, times the log of the pair-rounds in the horizon.
        static double Predicted(int n) => n / (3.0 * (GossipCodec.MaxEntries - 1)) * Math.Log((double)n * (n - 1) * 365 * 86400);
        foreach (var (small, large) in new[] { (1000, 10000), (256, 1000) })
        {
            var ratio = Defaults.RequiredSuspectAfter(large) / Defaults.RequiredSuspectAfter(small);
            Assert.Equal(Predicted(large) / Predicted(small), ratio, 0.1 * ratio);
        }
        Assert.True(Defaults.RequiredSuspectAfter(10000) > TimeSpan.FromHours(1));
    }

    [Fact]
    public void More_fanout_or_a_shorter_interval_needs_fewer_seconds()
    {
        var wide = Defaults with { Fanout = 6 };
        var fast = Defaults with { Interval = TimeSpan.FromMilliseconds(500) };
        Assert.True(wide.RequiredSuspectAfter(1000) < Defaults.RequiredSuspectAfter(1000));
        Assert.True(fast.RequiredSuspectAfter(1000) < Defaults.RequiredSuspectAfter(1000));
    }

    [Fact]
    public void The_refresh_probability_falls_from_certainty_to_fanout_times_17_over_N()
    {
        Assert.Equal(1.0, Defaults.RefreshProbabilityPerRound(4));
        Assert.InRange(Defaults.RefreshProbabilityPerRound(8), 0.95, 1.0);
        var q = Defaults.RefreshProbabilityPerRound(10000);
        // About fanout × 17 relayed vectors out of N, plus the node's own packets (fanout out of N − 1).
        var expected = 3.0 * GossipCodec.MaxEntries / 10000;
        Assert.InRange(q, 0.98 * expected, 1.02 * expected);
    }

    [Fact]
    public void A_node_count_below_one_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Defaults.ScaledFor(0));
}
