using OpenMosix.Balancing.Demand;
using OpenMosix.Balancing.Model;
using OpenMosix.Balancing.Policy;

namespace OpenMosix.Balancing.Tests;

/// <summary>Ushering looks ahead as far as a move out of the node takes, measured (MoveSpeed, UsherSchedule).</summary>
public sealed class UsherLookaheadTests
{
    private const double MiB = 1 << 20;

    /// <summary>Node 1 of three 1 GiB nodes holds five processes of 150 MiB, each growing by 10 MiB/s: 274 MiB free,
    /// 102 MiB being the ushering mark. At 2 s of look-ahead 100 MiB more is used: above the mark, nothing to do.</summary>
    private static Cluster Filling(BalancerOptions? options = null) =>
        new Cluster(options).Node(1, memory: 1024UL << 20).Node(2, memory: 1024UL << 20).Node(3, memory: 1024UL << 20)
            .Jobs(1, 5, demand: 0.1, memory: 150UL << 20).With(p => p with { MemoryGrowth = 10 * MiB });

    private static MoveTimes Measured(BalancerOptions options, double miB, double seconds)
    {
        var speed = new MoveSpeed(options);
        Assert.True(speed.Add(miB * MiB, TimeSpan.FromSeconds(seconds)));
        return speed.Times([]);
    }

    [Fact]
    public void A_node_whose_moves_are_slow_ushers_a_growing_process_that_a_node_with_fast_moves_keeps_for_now()
    {
        var options = new BalancerOptions();
        // At the link's 100 MB/s a 150 MiB move takes 1.6 s: the 2 s floor. 274 - 2 x 50 MiB stays above the mark.
        Assert.Empty(Filling().Decide(1, Measured(options, 150, 1.6)));
        // A move measured under load at 6.7 s for 150 MiB: by the time the next one ends 335 MiB more is used,
        // more than is free, so one must leave now; once it is on its way (its growth stopped, its memory counted
        // free) the others can wait for a later round.
        var slow = Filling().Decide(1, Measured(options, 150, 6.7));
        var ushered = Assert.Single(slow);
        Assert.Equal(MoveReason.Memory, ushered.Reason);
    }

    [Fact]
    public void Moves_already_waiting_for_their_turn_make_ushering_look_further_ahead()
    {
        var options = new BalancerOptions();
        var link = MoveTimes.FromLink(options);
        Assert.Empty(Filling().Decide(1, link));
        // Two moves of 8 s each hold both turns (max_concurrent_moves 2): a move decided now ends after 9.7 s.
        Assert.NotEmpty(Filling().Decide(1, link with { Pending = [8.0, 8.0] }));
        // One turn still free: it ends after 1.6 s, as before.
        Assert.Empty(Filling().Decide(1, link with { Pending = [8.0] }));
    }

    [Fact]
    public void The_configured_look_ahead_is_a_floor_and_the_ceiling_caps_what_slow_moves_add()
    {
        var fast = MoveTimes.FromLink(new BalancerOptions());
        // Fast moves, but usher_lookahead_ms 10 s: 500 MiB more within it, so ushering starts.
        var floor = new BalancerOptions { UsherLookahead = TimeSpan.FromSeconds(10) };
        Assert.NotEmpty(Filling(floor).Decide(1, fast));
        // Moves of 6.7 s, but usher_lookahead_max_ms 3 s: 150 MiB more within it, above the mark.
        var ceiling = new BalancerOptions { UsherLookaheadMax = TimeSpan.FromSeconds(3) };
        Assert.Empty(Filling(ceiling).Decide(1, Measured(ceiling, 150, 6.7)));
    }

    [Fact]
    public void A_slower_move_raises_the_estimate_at_once_and_a_faster_one_lowers_it_gradually()
    {
        var options = new BalancerOptions { MoveOverheadSeconds = 0 };
        var speed = new MoveSpeed(options);
        // Before any move: the link (100 MB/s).
        Assert.Equal(1 / 100e6, speed.SecondsPerByte, 1e-15);
        Assert.True(speed.Add(100 * MiB, TimeSpan.FromSeconds(4)));
        Assert.Equal(0.04, speed.SecondsPerByte * MiB, 1e-9);
        Assert.True(speed.Add(100 * MiB, TimeSpan.FromSeconds(1)));
        // A third of the way from 0.04 to 0.01 s/MiB.
        Assert.Equal(0.03, speed.SecondsPerByte * MiB, 1e-9);
        Assert.True(speed.Add(100 * MiB, TimeSpan.FromSeconds(6)));
        Assert.Equal(0.06, speed.SecondsPerByte * MiB, 1e-9);
        Assert.Equal(3, speed.Samples);
    }

    [Fact]
    public void Small_moves_are_not_samples_and_the_estimate_stays_between_the_link_and_the_slowest_believed()
    {
        var options = new BalancerOptions();
        var speed = new MoveSpeed(options);
        Assert.False(speed.Add(4 * MiB, TimeSpan.FromSeconds(3)));
        Assert.Equal(0, speed.Samples);
        Assert.Equal(1 / options.LinkBytesPerSecond, speed.SecondsPerByte, 1e-15);
        // Faster than the link: taken as the link.
        Assert.True(speed.Add(1024 * MiB, TimeSpan.FromSeconds(1)));
        Assert.Equal(1 / options.LinkBytesPerSecond, speed.SecondsPerByte, 1e-15);
        // A move stuck for ten minutes: no slower than 4 MiB/s.
        Assert.True(speed.Add(32 * MiB, TimeSpan.FromMinutes(10)));
        Assert.Equal(MoveSpeed.MaxSecondsPerMiB, speed.SecondsPerByte * MiB, 1e-9);
    }

    [Fact]
    public void A_move_under_way_counts_before_it_ends_and_what_each_decided_move_still_needs_follows()
    {
        var options = new BalancerOptions { MoveOverheadSeconds = 0 };
        var speed = new MoveSpeed(options);
        // A frozen move of 100 MiB has run 5 s: the node moves at 0.05 s/MiB or slower, though nothing ended yet.
        // A load move under way runs its process meanwhile and says nothing; one still waiting needs all of its time.
        var times = speed.Times([(100 * MiB, TimeSpan.FromSeconds(5), true), (200 * MiB, TimeSpan.FromSeconds(60), false), (40 * MiB, null, true)]);
        Assert.Equal(0.05, times.SecondsPerByte * MiB, 1e-9);
        Assert.Equal([0.0, 0.0, 2.0], times.Pending.Select(s => Math.Round(s, 9)));
        // Two turns, both free now (the waiting move will take one for 2 s): a 100 MiB move decided now ends in 5 s,
        // and the one decided after it waits for the waiting move's turn: it ends in 7.
        var schedule = new UsherSchedule(times, options with { UsherLookahead = TimeSpan.Zero });
        Assert.Equal(0.0 + 100 * 0.05, schedule.Lookahead(100 * MiB), 9);
        schedule.Decided(100 * MiB);
        Assert.Equal(2.0 + 100 * 0.05, schedule.Lookahead(100 * MiB), 9);
    }
}
