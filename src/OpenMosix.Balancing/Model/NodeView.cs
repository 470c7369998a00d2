namespace OpenMosix.Balancing.Model;

/// <summary>
/// What the balancer knows of one node, from its own measurement or the gossiped load vector. Speed is relative to
/// the reference CPU (10000); <see cref="Load"/> is the CPU demand of the processes running there, in CPUs (two
/// CPU-bound processes: 2.0). <see cref="FreeMemory"/> is negative when the node is over-committed (swapping): by
/// that much more must leave before it has any room.
/// </summary>
public readonly record struct NodeView(
    ushort Id,
    double Speed,
    int Cpus,
    double Load,
    long FreeMemory,
    ulong TotalMemory,
    NodeControls Controls = NodeControls.None,
    bool Alive = true)
{
    /// <summary>The node protocol versions it speaks, lowest and highest, as its gossip entry says; 0-0 when it does
    /// not say (an older node: a link to it negotiates or refuses in one line).</summary>
    public byte ProtocolMin { get; init; }

    /// <inheritdoc cref="ProtocolMin"/>
    public byte ProtocolMax { get; init; }

    /// <summary>Whether the two nodes share a protocol version, so a link between them can be made: true when
    /// either has not said which it speaks.</summary>
    public bool SpeaksWith(NodeView other) =>
        ProtocolMin == 0 || other.ProtocolMin == 0 || Math.Max(ProtocolMin, other.ProtocolMin) <= Math.Min(ProtocolMax, other.ProtocolMax);

    /// <summary>How many reference CPUs the node is worth.</summary>
    public double Capacity => Math.Max(Cpus, 1) * Speed / LoadMath.ReferenceSpeed;
}
