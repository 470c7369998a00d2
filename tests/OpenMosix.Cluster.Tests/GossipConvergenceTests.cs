using System.Diagnostics;
using System.Net;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Keys;

namespace OpenMosix.Cluster.Tests;

/// <summary>N gossip nodes on an in-memory, lossless network in virtual time (one round per interval).</summary>
public sealed class GossipConvergenceTests(ITestOutputHelper output)
{
    private static readonly PacketKeys Keys = TestKeys.Gossip((1, 7));
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 4, 0, 0, TimeSpan.Zero);

    /// <summary>Observed worst case over seeds 1-3: N=16 → 4, N=64 → 5, N=256 → 19 rounds (bound 12, 18, 24).</summary>
    private const double RoundsPerDoubling = 3;
    private const int WarmUpRounds = 15;

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(256)]
    public void A_change_at_one_node_reaches_every_node_within_a_logarithmic_number_of_rounds(int size)
    {
        var watch = Stopwatch.StartNew();
        var worst = 0;
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var rounds = RoundsToSpreadOneChange(size, seed);
            output.WriteLine($"N={size} seed={seed}: {rounds} rounds");
            worst = Math.Max(worst, rounds);
        }
        var bound = (int)Math.Ceiling(RoundsPerDoubling * Math.Log2(size));
        output.WriteLine($"N={size}: worst {worst} rounds, bound {bound}, {watch.Elapsed.TotalMilliseconds:F0} ms");
        Assert.InRange(worst, 1, bound);
    }

    private static int RoundsToSpreadOneChange(int size, int seed)
    {
        var random = new Random(seed);
        var ids = Enumerable.Range(1, size).Select(i => (ushort)i).ToArray();
        var nodes = ids.ToDictionary(id => id, id => new GossipNode(
            new LoadVector(id, IPAddress.Parse($"10.2.{id >> 8}.{id & 255}"), NodeState.Alive, 1.0,
                LoadVector.ReferenceSpeed, 2, 20_000, 4UL << 30, 2UL << 30, NodeFlags.None, 0),
            ids, Keys, OptionsFor(size), random, Start));
        var now = Start;
        for (var round = 0; round < WarmUpRounds; round++)
            now = RunRound(nodes, now);

        var origin = nodes[(ushort)(size / 2)];
        origin.UpdateSelf(origin.Self with { Load = 42.0 });
        var changed = origin.Self.Version;
        for (var round = 1; round <= 10 * Math.Log2(size); round++)
        {
            now = RunRound(nodes, now);
            var informed = nodes.Values.Count(node =>
                node.TryGetPeer(origin.Id, now, out var seen) && seen.Vector.Version >= changed && seen.Vector.Load == 42.0);
            if (informed == size)
                return round;
        }
        return int.MaxValue;
    }

    /// <summary>One 1200-byte packet carries only 18 vectors, so the timeouts must grow with the cluster.</summary>
    internal static GossipOptions OptionsFor(int size) => new GossipOptions().ScaledFor(size);

    private static DateTimeOffset RunRound(Dictionary<ushort, GossipNode> nodes, DateTimeOffset now)
    {
        var inFlight = new List<(ushort Destination, byte[] Packet)>();
        foreach (var node in nodes.Values)
            inFlight.AddRange(node.OnTick(now));
        foreach (var (destination, packet) in inFlight)
            Assert.Null(nodes[destination].OnPacket(now, packet));
        return now + new GossipOptions().Interval;
    }
}
