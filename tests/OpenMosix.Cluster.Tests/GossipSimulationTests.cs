using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Gossip.Simulation;

namespace OpenMosix.Cluster.Tests;

/// <summary>The virtual-time simulator over the real GossipNode and codec, and the failure detector at scale.</summary>
public sealed class GossipSimulationTests(ITestOutputHelper output)
{
    [Fact]
    public void The_same_seed_gives_the_same_run_and_another_seed_a_different_one()
    {
        static (long Bytes, ulong Version, TimeSpan Stalest) Run(int seed)
        {
            var network = new NetworkConditions { LossRate = 0.05, Jitter = TimeSpan.FromMilliseconds(300) };
            var simulation = new GossipSimulation(40, seed, new GossipOptions().ScaledFor(40), network);
            for (var round = 0; round < 30; round++)
            {
                if (round == 10)
                    simulation.Crash(7);
                if (round == 20)
                    simulation.Restart(7);
                simulation.RunRound();
            }
            var version = simulation.Node(1).TryGetPeer(7, simulation.Now, out var seen) ? seen.Vector.Version : 0;
            return (simulation.Traffic.BytesSent, version, simulation.StalestLiveEntry());
        }

        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }

    [Fact]
    public void A_load_change_reaches_all_256_nodes_within_two_log2_N_rounds()
    {
        const int size = 256;
        var simulation = new GossipSimulation(size, 1, new GossipOptions().ScaledFor(size));
        while (simulation.Ids.Any(id => simulation.CountKnowing(id, _ => true) < size - 1))
            simulation.RunRound();

        simulation.ChangeLoad(100, 9.5);
        var rounds = 0;
        while (simulation.CountKnowing(100, status => status.Vector.Load == 9.5) < size - 1)
        {
            simulation.RunRound();
            rounds++;
            Assert.InRange(rounds, 1, 2 * Math.Log2(size));
        }
        output.WriteLine($"{size} nodes: {rounds} rounds (log2 N = {Math.Log2(size)})");
    }

    [Fact]
    public void With_scaled_timeouts_no_live_node_is_suspected_and_a_crashed_one_is_dead_everywhere_within_suspect_plus_dead()
    {
        const int size = 64;
        var options = new GossipOptions().ScaledFor(size);
        var simulation = new GossipSimulation(size, 3, options, new NetworkConditions { LossRate = 0.01 });
        var stalest = TimeSpan.Zero;
        for (var round = 0; round < 150; round++)
        {
            simulation.RunRound();
            stalest = Max(stalest, simulation.StalestLiveEntry());
        }
        Assert.True(stalest < options.SuspectAfter, $"a live entry reached {stalest}, suspect after {options.SuspectAfter}");
        // The same run shows why the timeouts must scale: the fixed defaults would already have suspected live nodes.
        Assert.True(stalest >= new GossipOptions().SuspectAfter, $"stalest {stalest}");

        var crashedAt = simulation.Now;
        simulation.Crash(17);
        var up = simulation.UpCount;
        while (simulation.CountKnowing(17, status => status.State == NodeState.Dead) < up)
        {
            simulation.RunRound();
            stalest = Max(stalest, simulation.StalestLiveEntry());
            Assert.True(simulation.Now - crashedAt <= options.SuspectAfter + options.DeadAfter, "crashed node not yet dead everywhere");
        }
        Assert.True(stalest < options.SuspectAfter, $"a live entry reached {stalest}, suspect after {options.SuspectAfter}");
        output.WriteLine($"{size} nodes: stalest live entry {stalest}, dead everywhere after {simulation.Now - crashedAt}, " +
                         $"timeouts {options.SuspectAfter} / {options.DeadAfter}");
    }

    [Fact]
    public void A_restarted_node_is_alive_again_everywhere()
    {
        var options = new GossipOptions().ScaledFor(12);
        var simulation = new GossipSimulation(12, 2, options);
        for (var round = 0; round < 5; round++)
            simulation.RunRound();
        simulation.Crash(3);
        for (var round = 0; round < (options.DeadAfter + options.SuspectAfter) / options.Interval; round++)
            simulation.RunRound();
        Assert.Equal(11, simulation.CountKnowing(3, status => status.State == NodeState.Dead));

        simulation.Restart(3);
        for (var round = 0; round < 10; round++)
            simulation.RunRound();
        Assert.Equal(11, simulation.CountKnowing(3, status => status.State == NodeState.Alive));
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

public sealed class GossipWarmStartTests
{
    [Fact]
    public void In_a_warm_cluster_a_change_reaches_every_node_within_a_logarithmic_number_of_rounds_and_no_one_is_suspected()
    {
        const int Size = 200;
        var options = new OpenMosix.Cluster.Gossip.GossipOptions().ScaledFor(Size);
        var simulation = new OpenMosix.Cluster.Gossip.Simulation.GossipSimulation(Size, seed: 7, options);
        simulation.WarmStart();
        Assert.All(simulation.Ids, id => Assert.Equal(Size - 1, simulation.CountKnowing(id, _ => true)));

        simulation.ChangeLoad(100, 42.0);
        var rounds = 0;
        while (simulation.CountKnowing(100, s => s.Vector.Load == 42.0) < Size - 1)
        {
            simulation.RunRound();
            Assert.True(++rounds <= 2 * Math.Log2(Size), $"the change had not reached every node after {rounds} rounds");
        }
        Assert.True(simulation.StalestLiveEntry() < options.SuspectAfter);
        Assert.All(simulation.Ids, id => Assert.Equal(0, simulation.CountKnowing(id, s => s.State != OpenMosix.Cluster.Gossip.NodeState.Alive)));
    }
}
