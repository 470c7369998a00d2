using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Gossip.Simulation;

namespace OpenMosix.Bench.Cluster;

/// <summary>One simulated cluster, one seed: how many rounds each kind of change takes to reach every node.</summary>
internal sealed record ConvergenceResult(
    int Size, int Seed, GossipOptions Options, int MembershipRounds, int LoadRounds, int JoinRounds,
    TimeSpan? DeathSeen, TimeSpan StalestLiveEntry, double PacketsPerNodeSecond, double BytesPerNodeSecond);

internal static class ConvergenceBench
{
    private const double ChangedLoad = 42.0;

    public static ConvergenceResult Run(int size, int seed, bool deaths, bool warm = false)
    {
        var options = new GossipOptions().ScaledFor(size);
        var simulation = new GossipSimulation(size, seed, options);
        var stalest = TimeSpan.Zero;
        void Step()
        {
            simulation.RunRound();
            var age = simulation.StalestLiveEntry();
            if (age > stalest)
                stalest = age;
        }
        int RoundsUntil(Func<bool> done, int limit)
        {
            for (var rounds = 1; rounds <= limit; rounds++)
            {
                Step();
                if (done())
                    return rounds;
            }
            throw new InvalidOperationException($"{size} nodes, seed {seed}: no convergence within {limit} rounds");
        }
        var limit = (int)(options.DeadAfter / options.Interval) * 4;

        // Cold: everyone starts knowing only the map, and membership is measured: rounds until every node holds an
        // entry for every other one. Warm: the cluster starts in steady state (membership reported as 0).
        int membership;
        if (warm)
        {
            simulation.WarmStart();
            membership = 0;
        }
        else
        {
            membership = RoundsUntil(() => simulation.Ids.All(id => simulation.CountKnowing(id, _ => true) == size - 1), limit);
        }

        var (packets, bytes, start) = (simulation.Traffic.PacketsSent, simulation.Traffic.BytesSent, simulation.Round);
        var origin = (ushort)(size / 2 + 1);
        simulation.ChangeLoad(origin, ChangedLoad);
        var load = RoundsUntil(() => simulation.CountKnowing(origin, s => s.Vector.Load == ChangedLoad) == size - 1, limit);
        var seconds = (simulation.Round - start) * options.Interval.TotalSeconds;
        var packetRate = (simulation.Traffic.PacketsSent - packets) / seconds / size;
        var byteRate = (simulation.Traffic.BytesSent - bytes) / seconds / size;

        var joined = simulation.Join();
        var join = RoundsUntil(() => simulation.CountKnowing(joined, _ => true) == size, limit);

        TimeSpan? death = null;
        if (deaths)
        {
            var victim = (ushort)1;
            var crashedAt = simulation.Now;
            simulation.Crash(victim);
            var up = simulation.UpCount;
            RoundsUntil(() => simulation.CountKnowing(victim, s => s.State == NodeState.Dead) == up, limit);
            death = simulation.Now - crashedAt;
        }
        return new ConvergenceResult(size, seed, options, membership, load, join, death, stalest, packetRate, byteRate);
    }
}
