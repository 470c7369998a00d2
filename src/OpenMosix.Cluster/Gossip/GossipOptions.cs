namespace OpenMosix.Cluster.Gossip;

/// <summary>
/// Gossip timing. A node whose vector has not grown in version for <see cref="SuspectAfter"/> is Suspect, for
/// <see cref="DeadAfter"/> Dead. Every round bumps the sender's own version (a heartbeat), so a live node keeps
/// producing newer versions even when its load does not change.
/// </summary>
public sealed record GossipOptions
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);
    public int Fanout { get; init; } = 3;
    public TimeSpan SuspectAfter { get; init; } = TimeSpan.FromSeconds(4);
    public TimeSpan DeadAfter { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>How far a packet's timestamp may be from the local clock, either way.</summary>
    public TimeSpan ReplayWindow { get; init; } = TimeSpan.FromSeconds(30);

    public void Validate()
    {
        if (Interval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(Interval), "the gossip interval must be positive");
        if (Fanout < 1)
            throw new ArgumentOutOfRangeException(nameof(Fanout), "fanout must be at least 1");
        if (SuspectAfter <= TimeSpan.Zero || DeadAfter <= SuspectAfter)
            throw new ArgumentOutOfRangeException(nameof(DeadAfter), "need 0 < SuspectAfter < DeadAfter");
        if (ReplayWindow <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ReplayWindow), "the replay window must be positive");
    }
}
