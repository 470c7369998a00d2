using System.Globalization;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// One link's clock for <see cref="LinkLiveness"/>: a few times per heartbeat interval it sends a heartbeat if the link
/// has sent nothing for an interval, and declares the link dead when the peer has been silent for the timeout, or for
/// three intervals while the failure detector holds its node dead. Missed heartbeats, not none: the link itself is
/// the better witness, and a node gossip lost track of (its datagrams filtered, say) whose heartbeats still arrive is
/// alive. In a real partition the link is silent long before gossip gives its verdict, which then ends it at once.
/// </summary>
internal static class LinkWatchdog
{
    private static readonly TimeSpan ShortestTick = TimeSpan.FromMilliseconds(10);
    /// <summary>Heartbeats missed before the failure detector's verdict is taken: more than a late one or a pause.</summary>
    private const int MissedBeforeVerdict = 3;

    public static async Task RunAsync(NodeLink link, FrameReader reader, LinkLiveness liveness, CancellationToken stop)
    {
        var interval = (long)liveness.HeartbeatInterval.TotalMilliseconds;
        var timeout = (long)liveness.Timeout.TotalMilliseconds;
        var tick = liveness.HeartbeatInterval / 4 > ShortestTick ? liveness.HeartbeatInterval / 4 : ShortestTick;
        using var timer = new PeriodicTimer(tick);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = Environment.TickCount64;
                var silent = reader.SilentFor(now);
                if (silent >= timeout)
                {
                    link.Abandon(Invariant($"node {link.PeerNode} sent nothing for {Seconds(silent)} s (link timeout {Seconds(timeout)} s)"));
                    return;
                }
                if (silent >= MissedBeforeVerdict * interval && liveness.DeclaredDead(link.PeerNode))
                {
                    link.Abandon(Invariant($"the failure detector holds node {link.PeerNode} dead and it sent nothing for {Seconds(silent)} s"));
                    return;
                }
                if (now - link.LastSent >= interval) link.TrySendHeartbeat();
            }
        }
        catch (OperationCanceledException)
        {
            // The link was closed by its owner.
        }
    }

    private static string Seconds(long milliseconds) => (milliseconds / 1000.0).ToString("0.0", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
