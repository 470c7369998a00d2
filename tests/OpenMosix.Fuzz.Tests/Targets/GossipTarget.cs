using System.Net;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Keys;
using OpenMosix.Fuzz.Tests.Engine;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>
/// The gossip codec's decoder, as omd runs it on every UDP datagram: it never throws. Packets are sealed with
/// AES-GCM, so byte mutations exercise what anyone on the network can reach: the plain header, the lengths and the
/// authentication (mutating inside the seal, as a key holder could, is not done yet).
/// </summary>
public sealed class GossipTarget : FuzzTarget
{
    private readonly PacketKeys _keys = ClusterKey.Gossip();

    public override string Name => "gossip";
    public override IReadOnlyList<Type> Refusals { get; } = [];

    public override IEnumerable<(string Name, byte[] Data)> Seeds()
    {
        var v4 = Vector(1, IPAddress.Parse("10.77.1.2"), 0.5);
        var v6 = Vector(2, IPAddress.Parse("fd00::7"), 3.25) with { State = NodeState.Suspect, Flags = NodeFlags.Blocked | NodeFlags.Stay };
        yield return ("empty.bin", Encode([]));
        yield return ("two-nodes.bin", Encode([v4, v6]));
    }

    public override bool Run(byte[] input) =>
        GossipCodec.TryDecode(input, _keys, new ReplayGuard(ClusterKey.Window, () => ClusterKey.Now), out _, out _);

    private byte[] Encode(IReadOnlyList<LoadVector> entries) =>
        GossipCodec.Encode(new PacketHeader(1, 5, 7), ClusterKey.Now, entries, null, [], _keys);

    private static LoadVector Vector(ushort id, IPAddress address, double load) =>
        new(id, address, NodeState.Alive, load, 1500, 4, 4000, 8UL << 30, 3UL << 30, NodeFlags.None, 42) { Utilization = 250 };

    protected override void Dispose(bool disposing)
    {
        if (disposing) _keys.Dispose();
    }
}
