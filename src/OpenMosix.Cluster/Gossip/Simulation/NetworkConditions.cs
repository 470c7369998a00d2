namespace OpenMosix.Cluster.Gossip.Simulation;

/// <summary>How the simulated network treats each datagram.</summary>
public sealed record NetworkConditions
{
    /// <summary>Probability that a datagram is lost, drawn independently for each one.</summary>
    public double LossRate { get; init; }

    /// <summary>One-way delay every datagram has.</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Extra delay, uniform in [0, Jitter), so datagrams can overtake each other.</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>
    /// Real daemons start at different moments, so their rounds are out of step: each node ticks at its own fixed
    /// offset within the interval. Without it every node ticks at the start of the round (lock-step rounds).
    /// </summary>
    public bool RandomPhases { get; init; } = true;

    /// <summary>A lossless network of lock-step rounds where every datagram arrives in the round it was sent.</summary>
    public static NetworkConditions LockStep { get; } = new() { Latency = TimeSpan.Zero, RandomPhases = false };

    public void Validate()
    {
        if (LossRate is < 0 or >= 1 || double.IsNaN(LossRate))
            throw new ArgumentOutOfRangeException(nameof(LossRate), "the loss rate must be in [0, 1)");
        if (Latency < TimeSpan.Zero || Jitter < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(Latency), "latency and jitter cannot be negative");
    }
}
