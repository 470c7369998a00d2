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

    /// <summary>
    /// Entries one packet carries on average, the sender's own included: <see cref="GossipCodec.MaxEntries"/>
    /// unsigned, fewer with origin signatures (<see cref="SignedWindow"/>). Only the timeout scaling reads it.
    /// </summary>
    public int WindowEntries { get; init; } = GossipCodec.MaxEntries;

    /// <summary>
    /// The average window of a signing node whose certificate has <paramref name="certificateLength"/> bytes: full
    /// signed packets, and a smaller one every <see cref="GossipNode.CertificateEveryRounds"/> rounds.
    /// </summary>
    public static int SignedWindow(int certificateLength) =>
        Math.Max(2, ((GossipNode.CertificateEveryRounds - 1) * GossipCodec.MaxSignedEntries
            + GossipCodec.SignedEntriesBeside(certificateLength)) / GossipNode.CertificateEveryRounds);

    /// <summary>
    /// How long the whole cluster may run, on average, before one live node is wrongly suspected by one peer. The
    /// scaled timeouts are chosen against this horizon.
    /// </summary>
    public static readonly TimeSpan FalseSuspicionHorizon = TimeSpan.FromDays(365);

    /// <summary>
    /// Safety factor over the refresh model below: the simulator measured entries slightly staler than the model
    /// predicts (about 10 % at 512 nodes), because a relayed vector is not always newer than the one the receiver has.
    /// </summary>
    public const double RefreshModelMargin = 1.25;

    /// <summary>
    /// The options for a cluster of <paramref name="nodeCount"/> nodes: the configured timeouts are minimums, raised
    /// (both by the same factor) so that a live node is not suspected within <see cref="FalseSuspicionHorizon"/>.
    /// A node learns that a peer is alive only when a newer vector of it arrives, and a round delivers only about
    /// fanout × (WindowEntries − 1) vectors to each node, so beyond a few dozen nodes an entry's age is roughly
    /// exponential with a mean of N / (fanout × 17) rounds and the suspect timeout must grow like N log N.
    /// Pure; the daemon calls it whenever the node count changes. See docs/gossip.md.
    /// </summary>
    public GossipOptions ScaledFor(int nodeCount)
    {
        Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(nodeCount, 1);
        var needed = RequiredSuspectAfter(nodeCount);
        if (needed <= SuspectAfter)
            return this;
        var factor = needed / SuspectAfter;
        return this with { SuspectAfter = needed, DeadAfter = DeadAfter * factor };
    }

    /// <summary>
    /// Probability that, in one round, a given node receives at least one vector of a given other node: each of the
    /// other N − 1 nodes sends to it with probability fanout / (N − 1) and includes that vector with probability
    /// min(1, (WindowEntries − 1) / (N − 2)); the node itself always leads its own packets.
    /// </summary>
    public double RefreshProbabilityPerRound(int nodeCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodeCount, 1);
        if (nodeCount <= Fanout + 1)
            return 1.0;
        var others = nodeCount - 1;
        var reach = (double)Fanout / others;
        var relayed = Math.Min(1.0, (WindowEntries - 1.0) / Math.Max(1, others - 1));
        var missed = (1 - reach) * Math.Pow(1 - (reach * relayed), others - 1);
        return 1 - missed;
    }

    /// <summary>
    /// The smallest suspect timeout that keeps the expected number of false suspicions in the cluster below one per
    /// <see cref="FalseSuspicionHorizon"/>: with N(N − 1) ordered pairs and q = <see cref="RefreshProbabilityPerRound"/>,
    /// a pair goes g rounds unrefreshed with probability (1 − q)^g, so g = ln(N(N − 1) · rounds per horizon) / −ln(1 − q),
    /// times <see cref="RefreshModelMargin"/>.
    /// </summary>
    public TimeSpan RequiredSuspectAfter(int nodeCount)
    {
        var q = RefreshProbabilityPerRound(nodeCount);
        if (q >= 1.0)
            return TimeSpan.Zero;
        var pairRounds = (double)nodeCount * (nodeCount - 1) * (FalseSuspicionHorizon / Interval);
        var rounds = Math.Log(pairRounds) / -Math.Log(1 - q) * RefreshModelMargin;
        return Interval * Math.Ceiling(rounds);
    }

    public void Validate()
    {
        if (Interval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(Interval), "the gossip interval must be positive");
        if (Fanout < 1)
            throw new ArgumentOutOfRangeException(nameof(Fanout), "fanout must be at least 1");
        if (SuspectAfter <= TimeSpan.Zero || DeadAfter <= SuspectAfter)
            throw new ArgumentOutOfRangeException(nameof(DeadAfter), "need 0 < SuspectAfter < DeadAfter");
        if (WindowEntries < 2 || WindowEntries > GossipCodec.MaxEntries)
            throw new ArgumentOutOfRangeException(nameof(WindowEntries), $"a window holds 2 to {GossipCodec.MaxEntries} entries");
        if (ReplayWindow <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ReplayWindow), "the replay window must be positive");
    }
}
