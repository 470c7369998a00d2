using OpenMosix.Balancing.Model;
using OpenMosix.Balancing.Policy;

namespace OpenMosix.Balancing.Tests;

public sealed class StartPlacementTests
{
    private static NodeView Node(ushort id, double load, double speed = 10000, int cpus = 1, NodeControls controls = NodeControls.None) =>
        new(id, speed, cpus, load, 4L << 30, 4UL << 30, controls);

    [Fact]
    public void A_node_with_a_free_cpu_keeps_a_new_process()
    {
        Assert.Null(StartPlacement.Choose(1, [Node(1, 0), Node(2, 0)], new BalancerOptions()));
        Assert.Null(StartPlacement.Choose(1, [Node(1, 1.2, cpus: 2), Node(2, 0)], new BalancerOptions()));
    }

    [Fact]
    public void A_process_restarted_goes_where_it_runs_fastest_with_its_memory_and_home_keeps_it_when_none_is_faster()
    {
        const long GiB = 1L << 30;
        var options = new BalancerOptions();
        Assert.Null(StartPlacement.Fastest(1, [Node(1, 0), Node(3, 0)], options, GiB));
        Assert.Equal((ushort)3, StartPlacement.Fastest(1, [Node(1, 1), Node(3, 0)], options, GiB));
        // Node 3 is idle but cannot hold 4 GiB more; node 4 can.
        NodeView Small(ushort id) => new(id, 10000, 1, 0, 2 * GiB, 4UL << 30);
        Assert.Equal((ushort)4, StartPlacement.Fastest(1, [Node(1, 1), Small(3), Node(4, 0.5)], options, GiB + GiB * 3 / 4));
        // Home cannot hold it: any node that can, even a busier one.
        Assert.Equal((ushort)2, StartPlacement.Fastest(1, [Small(1), Node(2, 1)], options, 2 * GiB));
        Assert.Null(StartPlacement.Fastest(1, [Node(1, 1), Node(3, 0, controls: NodeControls.Blocked)], options, 0));
        // Placement at start switched off does not keep a restarted process home.
        Assert.Equal((ushort)3, StartPlacement.Fastest(1, [Node(1, 1), Node(3, 0)], options with { PlaceAtStart = false }, 0));
    }

    [Fact]
    public void A_busy_node_starts_a_new_process_on_the_least_loaded_node()
    {
        Assert.Equal((ushort)3, StartPlacement.Choose(1, [Node(1, 1), Node(2, 1), Node(3, 0), Node(4, 0.5)], new BalancerOptions()));
    }

    [Fact]
    public void A_faster_node_wins_over_an_equally_idle_slower_one_and_a_slower_one_is_not_chosen_for_little()
    {
        Assert.Equal((ushort)3, StartPlacement.Choose(1, [Node(1, 1), Node(2, 0, speed: 5000), Node(3, 0, speed: 20000)], new BalancerOptions()));
        // Home shared by two runs at half of 10000; a node of 5000 alone is no faster: it stays home.
        Assert.Null(StartPlacement.Choose(1, [Node(1, 1), Node(2, 0, speed: 5000)], new BalancerOptions()));
    }

    [Fact]
    public void Successive_starts_fill_the_cluster_evenly_when_each_placement_is_counted()
    {
        var loads = new Dictionary<ushort, double> { [1] = 0, [2] = 0, [3] = 0, [4] = 0 };
        for (var i = 0; i < 16; i++)
        {
            var to = StartPlacement.Choose(1, [.. loads.Select(l => Node(l.Key, l.Value))], new BalancerOptions()) ?? 1;
            loads[to]++;
        }
        Assert.All(loads.Values, load => Assert.Equal(4, load));
    }

    [Fact]
    public void Stay_lstay_blocked_quiet_and_the_switch_off_are_obeyed()
    {
        var options = new BalancerOptions();
        Assert.Null(StartPlacement.Choose(1, [Node(1, 3, controls: NodeControls.Stay), Node(2, 0)], options));
        Assert.Null(StartPlacement.Choose(1, [Node(1, 3, controls: NodeControls.LocalStay), Node(2, 0)], options));
        Assert.Null(StartPlacement.Choose(1, [Node(1, 3), Node(2, 0, controls: NodeControls.Blocked), Node(3, 0, controls: NodeControls.Quiet)], options));
        Assert.Null(StartPlacement.Choose(1, [Node(1, 3), Node(2, 0)], options with { PlaceAtStart = false }));
        Assert.Null(StartPlacement.Choose(1, [Node(1, 3), Node(2, 0) with { Alive = false }], options));
    }
}
