using System.Net;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Fuzz.Tests.Engine;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>
/// The gossip codec's decoder, as omd runs it on every UDP datagram: it never throws, and a packet it accepts encodes
/// back to the same bytes (nothing in it was misread or ignored).
/// </summary>
public sealed class GossipTarget : FuzzTarget
{
    public override string Name => "gossip";
    public override IReadOnlyList<Type> Refusals { get; } = [];
    public override IReadOnlyList<byte[]> Dictionary { get; } = [.. ClusterKey.TimeTokens()];

    public override IEnumerable<(string Name, byte[] Data)> Seeds()
    {
        var v4 = Vector(1, IPAddress.Parse("10.77.1.2"), 0.5);
        var v6 = Vector(2, IPAddress.Parse("fd00::7"), 3.25) with { State = NodeState.Suspect, Flags = NodeFlags.Blocked | NodeFlags.Stay };
        yield return ("empty.bin", Encode(1, []));
        yield return ("two-nodes.bin", Encode(1, [v4, v6]));
        yield return ("full.bin", Encode(3, [.. Enumerable.Range(1, GossipCodec.MaxEntries)
            .Select(i => Vector((ushort)i, new IPAddress([10, 77, 0, (byte)i]), i / 4.0))]));
    }

    public override bool Run(byte[] input)
    {
        var guard = new ReplayGuard(ClusterKey.Window, () => ClusterKey.Now);
        if (!GossipCodec.TryDecode(input, ClusterKey.Key, guard, out var packet, out _)) return false;
        var again = GossipCodec.Encode(packet.Sender, packet.Sequence, packet.Timestamp, packet.Entries, ClusterKey.Key);
        if (!again.AsSpan().SequenceEqual(input)) throw new PropertyViolation("an accepted packet does not encode back to its bytes");
        return true;
    }

    public override byte[] Mutate(Mutator mutator, byte[] seed, IReadOnlyList<byte[]> corpus)
    {
        ArgumentNullException.ThrowIfNull(mutator);
        var mutated = mutator.Mutate(seed, corpus);
        return mutator.Random.Next(4) == 0 ? mutated : ClusterKey.Resign(mutated, GossipCodec.MacSize);
    }

    private static byte[] Encode(ushort sender, IReadOnlyList<LoadVector> entries) =>
        GossipCodec.Encode(sender, 7, ClusterKey.Now, entries, ClusterKey.Key);

    private static LoadVector Vector(ushort id, IPAddress address, double load) =>
        new(id, address, NodeState.Alive, load, 1500, 4, 4000, 8UL << 30, 3UL << 30, NodeFlags.None, 42) { Utilization = 250 };
}
