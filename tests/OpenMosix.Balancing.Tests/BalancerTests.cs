using OpenMosix.Balancing.Model;

namespace OpenMosix.Balancing.Tests;

public sealed class BalancerTests
{
    [Fact]
    public void Jobs_started_on_one_node_spread_evenly_over_equal_nodes()
    {
        var cluster = new Cluster().Node(1).Node(2).Node(3).Node(4).Jobs(1, 16);
        cluster.Settle();
        Assert.All(new ushort[] { 1, 2, 3, 4 }, n => Assert.Equal(4, cluster.CountOn(n)));
    }

    [Fact]
    public void Work_lands_in_proportion_to_speed()
    {
        var cluster = new Cluster().Node(1, speed: 2500).Node(2, speed: 5000).Node(3, speed: 5000).Node(4, speed: 7500).Jobs(1, 20);
        cluster.Settle();
        // 20 jobs over capacities 1:2:2:3 (8 parts): 2.5, 5, 5, 7.5 ideally; whole jobs within one of that.
        Assert.InRange(cluster.CountOn(1), 2, 3);
        Assert.InRange(cluster.CountOn(2), 4, 6);
        Assert.InRange(cluster.CountOn(3), 4, 6);
        Assert.InRange(cluster.CountOn(4), 7, 8);
    }

    [Fact]
    public void A_process_never_moves_to_a_slower_or_fuller_node()
    {
        // Alone on a fast node: every other node is slower or busier.
        var cluster = new Cluster().Node(1, speed: 20000).Node(2, speed: 10000).Node(3, speed: 20000).Jobs(1, 1).Jobs(3, 2);
        Assert.Empty(cluster.Decide(1));
        foreach (var d in cluster.Decide(3))
        {
            Assert.Equal(MoveReason.Load, d.Reason);
            Assert.NotEqual((ushort)2, d.To);
        }
    }

    [Fact]
    public void Two_equal_nodes_never_pass_a_process_back_and_forth()
    {
        var cluster = new Cluster().Node(1).Node(2).Jobs(1, 3).Jobs(2, 2);
        var rounds = cluster.Settle();
        Assert.True(cluster.Moves <= 1, $"{cluster.Moves} moves between two equal nodes");
        Assert.True(rounds <= 2);
        // Balanced already: no round moves anything any more.
        Assert.Empty(cluster.Decide(1));
        Assert.Empty(cluster.Decide(2));
    }

    [Fact]
    public void Each_process_moves_at_most_once_while_a_burst_settles()
    {
        var cluster = new Cluster().Node(1).Node(2).Node(3).Node(4).Node(5).Node(6).Node(7).Node(8).Jobs(1, 40);
        cluster.Settle();
        Assert.True(cluster.Moves <= 35, $"{cluster.Moves} moves to spread 40 jobs (35 must leave node 1)");
        Assert.All(Enumerable.Range(1, 8), n => Assert.Equal(5, cluster.CountOn((ushort)n)));
    }

    [Fact]
    public void A_blocked_or_quiet_node_receives_nothing()
    {
        var cluster = new Cluster().Node(1).Node(2, controls: NodeControls.Blocked).Node(3, controls: NodeControls.Quiet).Jobs(1, 6);
        cluster.Settle();
        Assert.Equal(6, cluster.CountOn(1));
    }

    [Fact]
    public void Stay_keeps_every_process_of_the_node_and_lstay_only_its_own()
    {
        var stay = new Cluster().Node(1, controls: NodeControls.Stay).Node(2).Jobs(1, 4);
        Assert.Empty(stay.Decide(1));
        var lstay = new Cluster().Node(1, controls: NodeControls.LocalStay).Node(2).Node(3).Jobs(1, 3).Jobs(1, 3, home: 3);
        lstay.Apply(lstay.Decide(1));
        Assert.All(lstay.Processes.Where(p => p.Home == 1), p => Assert.Equal((ushort)1, p.Node));
        Assert.Contains(lstay.Processes, p => p.Home == 3 && p.Node != 1);
    }

    [Fact]
    public void Locked_cantmove_io_bound_and_recently_moved_processes_stay()
    {
        var cluster = new Cluster().Node(1).Node(2).Jobs(1, 4)
            .With(p => (p.Pid % 4) switch
            {
                0 => p with { Locked = true },
                1 => p with { CantMove = true },
                2 => p with { Demand = 0.05 },
                _ => p with { SinceLastMove = TimeSpan.FromSeconds(1) },
            });
        Assert.Empty(cluster.Decide(1));
    }

    [Fact]
    public void A_node_that_refused_a_process_is_never_chosen_for_it()
    {
        var cluster = new Cluster().Node(1).Node(2).Jobs(1, 3).With(p => p with { Refused = new HashSet<ushort> { 2 } });
        Assert.Empty(cluster.Decide(1));
    }

    [Fact]
    public void A_young_process_is_not_worth_moving_when_its_memory_costs_more_than_it_would_gain()
    {
        const ulong Memory = 16UL << 30;
        var young = new Cluster().Node(1, memory: Memory).Node(2, memory: Memory).Jobs(1, 2, memory: 2UL << 30, age: TimeSpan.FromSeconds(5));
        Assert.Empty(young.Decide(1));
        var old = new Cluster().Node(1, memory: Memory).Node(2, memory: Memory).Jobs(1, 2, memory: 2UL << 30, age: TimeSpan.FromMinutes(10));
        Assert.Equal(MoveReason.Load, Assert.Single(old.Decide(1)).Reason);
    }

    [Fact]
    public void Expel_sends_every_guest_home_and_bring_calls_every_own_process_home()
    {
        var expel = new Cluster().Node(1, controls: NodeControls.Expel).Node(2).Node(3).Jobs(1, 2, home: 2).Jobs(1, 1, home: 3).Jobs(1, 2);
        var sent = expel.Decide(1);
        Assert.Equal(3, sent.Count);
        Assert.All(sent, d => Assert.Equal(MoveReason.Expel, d.Reason));
        Assert.All(sent, d => Assert.Equal(expel.Processes.Single(p => p.Pid == d.Pid).Home, d.To));

        var bring = new Cluster().Node(1, controls: NodeControls.Bring).Node(2).Jobs(2, 3, home: 1).Jobs(2, 1);
        var called = bring.Decide(1);
        Assert.Equal(3, called.Count);
        Assert.All(called, d => Assert.Equal((MoveReason.Bring, (ushort)2, (ushort)1), (d.Reason, d.From, d.To)));
    }

    [Fact]
    public void A_node_short_of_memory_ushers_its_biggest_processes_to_where_they_fit()
    {
        const ulong GiB = 1UL << 30;
        var cluster = new Cluster().Node(1, memory: 4 * GiB).Node(2, memory: 1 * GiB).Node(3, memory: 4 * GiB)
            .Jobs(1, 1, demand: 0.1, memory: 2 * GiB).Jobs(1, 4, demand: 0.1, memory: 512UL << 20);
        var ushered = cluster.Decide(1);
        var first = Assert.Single(ushered);
        Assert.Equal((MoveReason.Memory, (ushort)3), (first.Reason, first.To));
        Assert.Equal(2 * GiB, cluster.Processes.Single(p => p.Pid == first.Pid).MemoryBytes);
    }

    [Fact]
    public void A_node_filling_fast_ushers_before_it_is_short_and_one_steady_at_the_same_level_does_not()
    {
        const ulong MiB = 1UL << 20;
        // 1 GiB nodes; node 1 holds 5 x 160 MiB (224 MiB free, above the 10% threshold) ...
        Cluster Filling(double growth) => new Cluster().Node(1, memory: 1024 * MiB).Node(2, memory: 1024 * MiB).Node(3, memory: 1024 * MiB)
            .Jobs(1, 5, demand: 0.1, memory: 160 * MiB).With(p => p with { MemoryGrowth = growth });
        Assert.Empty(Filling(0).Decide(1));
        // ... but each grows by 40 MiB/s: in the 2 s lookahead 400 MiB more, more than it has.
        var filling = Filling(40.0 * MiB);
        var ushered = filling.Decide(1);
        Assert.NotEmpty(ushered);
        Assert.All(ushered, d => Assert.Equal(MoveReason.Memory, d.Reason));
        var projectedFree = 224.0 * MiB - 400.0 * MiB + ushered.Count * 240.0 * MiB;
        Assert.True(projectedFree >= 0.1 * 1024 * MiB, $"after {ushered.Count} moves node 1 would have {projectedFree / MiB:F0} MiB in 2 s");
        // Each target is left room for the growth too: no node gets more than (1024 - 102) / 240 = 3 of them.
        Assert.All(ushered.GroupBy(d => d.To), g => Assert.True(g.Count() <= 3));
    }

    [Fact]
    public void A_guest_that_passes_home_on_its_way_goes_on_only_when_home_has_room_for_it_meanwhile()
    {
        const ulong MiB = 1UL << 20;
        // Node 2 is short of memory with a guest of node 1; node 3 has room. Node 1 is full, then not.
        Cluster Short(ulong homeUsed) => new Cluster().Node(1, memory: 1024 * MiB).Node(2, memory: 1024 * MiB).Node(3, memory: 4096 * MiB)
            .Jobs(1, 1, demand: 0.1, memory: homeUsed).Jobs(2, 1, demand: 0.1, memory: 600 * MiB, home: 1).Jobs(2, 1, demand: 0.1, memory: 400 * MiB)
            .With(p => p with { PassesHome = p.Home != p.Node });
        Assert.DoesNotContain(Short(800 * MiB).Decide(2), d => d.Pid == 1001);
        var moved = Assert.Single(Short(100 * MiB).Decide(2), d => d.Pid == 1001);
        Assert.Equal((ushort)3, moved.To);
    }

    [Fact]
    public void A_guest_that_would_pass_home_on_its_way_pays_for_two_moves()
    {
        // Node 2 runs two of node 1's processes (node 1 takes nothing back: blocked); node 3 is idle. Each is 4 s old:
        // moving one saves 2 s, more than twice one move (0.72 s) but less than twice two.
        Cluster Guests(bool passesHome) => new Cluster().Node(1, controls: NodeControls.Blocked).Node(2).Node(3)
            .Jobs(2, 2, age: TimeSpan.FromSeconds(4), home: 1).With(p => p with { PassesHome = passesHome });
        Assert.Single(Guests(passesHome: false).Decide(2));
        Assert.Empty(Guests(passesHome: true).Decide(2));
    }

    [Fact]
    public void No_node_is_sent_a_guest_it_cannot_hold()
    {
        const ulong GiB = 1UL << 30;
        var cluster = new Cluster().Node(1, memory: 8 * GiB).Node(2, memory: 1 * GiB).Jobs(1, 4, memory: 1 * GiB);
        cluster.Settle();
        Assert.Equal(4, cluster.CountOn(1));
    }

    [Fact]
    public void The_same_views_always_give_the_same_decisions()
    {
        var cluster = new Cluster().Node(1).Node(2, speed: 15000).Node(3, cpus: 2).Jobs(1, 9);
        var first = cluster.Decide(1);
        Assert.NotEmpty(first);
        Assert.Equal(first, cluster.Decide(1));
    }
}

public sealed class OvercommitTests
{
    [Fact]
    public void An_overcommitted_node_ushers_until_what_it_holds_fits_with_room_to_spare()
    {
        const ulong GiB = 1UL << 30;
        // 12 GiB of processes on a 4 GiB node: 8 GiB over, and 0.4 GiB to keep free.
        var cluster = new Cluster().Node(1, memory: 4 * GiB).Node(2, memory: 16 * GiB).Node(3, memory: 16 * GiB)
            .Jobs(1, 24, demand: 0.1, memory: GiB / 2);
        var ushered = cluster.Decide(1);
        Assert.All(ushered, d => Assert.Equal(MoveReason.Memory, d.Reason));
        var left = cluster.Processes.Count(p => ushered.All(d => d.Pid != p.Pid));
        Assert.Equal(7, left);
    }
}
