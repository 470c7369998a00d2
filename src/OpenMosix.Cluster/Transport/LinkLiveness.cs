namespace OpenMosix.Cluster.Transport;

/// <summary>
/// How a node link knows its peer is still there without waiting for TCP to give up (which takes minutes, or never
/// comes: a powered-off node sends no reset). Each end sends a <see cref="FrameType.Heartbeat"/> when it has sent
/// nothing for <see cref="HeartbeatInterval"/>; a link that has heard nothing for <see cref="Timeout"/> is dead, and so
/// is one the failure detector holds dead (<see cref="DeclaredDead"/>) once it has missed three heartbeats. A dead link
/// is closed: whatever waits on it, a relay, an answer, an image read or write on the tracer thread, fails at once
/// with a <see cref="LinkException"/> saying why.
/// </summary>
public sealed record LinkLiveness(TimeSpan HeartbeatInterval, TimeSpan Timeout)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A timeout shorter than this many intervals would call a peer dead for a heartbeat that is merely late.</summary>
    public const int MinimumIntervalsPerTimeout = 3;

    public static LinkLiveness Default { get; } = new(DefaultInterval, DefaultTimeout);

    /// <summary>The failure detector's verdict on a node (gossip's dead state); never dead by default.</summary>
    public Func<ushort, bool> DeclaredDead { get; init; } = _ => false;

    /// <summary>Told once, with the peer's node and the reason, when a link is declared dead: for its one log line.</summary>
    public Action<ushort, string>? Died { get; init; }

    /// <summary>Why these times do not work together, or null.</summary>
    public string? Problem() =>
        HeartbeatInterval <= TimeSpan.Zero ? "the heartbeat interval must be positive"
        : Timeout < HeartbeatInterval * MinimumIntervalsPerTimeout
            ? $"the link timeout must be at least {MinimumIntervalsPerTimeout} heartbeat intervals"
            : null;
}
