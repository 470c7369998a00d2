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
    /// <summary>How many reference CPUs the node is worth.</summary>
    public double Capacity => Math.Max(Cpus, 1) * Speed / LoadMath.ReferenceSpeed;
}
