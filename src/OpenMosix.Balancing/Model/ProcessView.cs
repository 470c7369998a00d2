namespace OpenMosix.Balancing.Model;

/// <summary>
/// A process the balancer may move: where it runs and where its home is, its CPU demand (0..1 of a CPU, estimated with
/// decay), how long it has run (a process is expected to run about as long again), its memory (what a move costs),
/// and what forbids moving it.
/// </summary>
public sealed record ProcessView(int Pid, ushort Node, ushort Home, double Demand, TimeSpan Age, ulong MemoryBytes)
{
    public bool Locked { get; init; }
    public bool CantMove { get; init; }
    /// <summary>Time since it last moved (or since it started): moves are spaced by the cooldown.</summary>
    public TimeSpan SinceLastMove { get; init; } = TimeSpan.MaxValue;
    /// <summary>Nodes that refused it (handshake mismatch, missing files): never chosen for it.</summary>
    public IReadOnlySet<ushort> Refused { get; init; } = new HashSet<ushort>();
    /// <summary>A guest whose move to a third node passes through its home (omd brings it home, then sends it out):
    /// such a move also needs room at home for the moment it is there.</summary>
    public bool PassesHome { get; init; }
    /// <summary>How fast its memory grows, in bytes per second (0 when steady or shrinking): ushering looks ahead.</summary>
    public double MemoryGrowth { get; init; }
}
