namespace OpenMosix.Balancing.Model;

public enum MoveReason
{
    /// <summary>It runs faster there, by more than the margin and the cost of moving.</summary>
    Load,
    /// <summary>Its node is short of memory (ushering).</summary>
    Memory,
    /// <summary>Its node expels its guests.</summary>
    Expel,
    /// <summary>Its home brings its processes back.</summary>
    Bring,
}

/// <summary>Move <see cref="Pid"/> from <see cref="From"/> to <see cref="To"/>; <see cref="Gain"/> is the expected time
/// saved in seconds (for load moves).</summary>
public sealed record Decision(int Pid, ushort From, ushort To, MoveReason Reason, double Gain = 0);
