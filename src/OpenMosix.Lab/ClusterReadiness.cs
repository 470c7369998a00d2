using System.Diagnostics;
using OpenMosix.Admin;

namespace OpenMosix.Lab;

/// <summary>
/// A lab is up when every node's omd sees every node alive — what a user would check first with `om status`.
/// Asked through each node's admin socket, exactly as `om lab exec N -- om status` would.
/// </summary>
public static class ClusterReadiness
{
    public static void WaitAllAlive(IReadOnlyList<PendingDaemon> daemons, int nodeCount, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var waiting = daemons.ToList();
        var seen = new Dictionary<int, int>();
        while (waiting.Count > 0)
        {
            foreach (var daemon in waiting.ToArray())
            {
                var alive = AliveSeenBy(daemon.Socket);
                seen[daemon.Node] = alive;
                if (alive == nodeCount) waiting.Remove(daemon);
            }
            if (waiting.Count == 0) return;
            if (clock.Elapsed > timeout)
            {
                var first = waiting[0];
                throw new LabException($"node {first.Node} sees {seen[first.Node]} of {nodeCount} nodes alive after " +
                    $"{timeout.TotalSeconds:F0} s; see {first.Log}");
            }
            Thread.Sleep(50);
        }
    }

    private static int AliveSeenBy(string socket)
    {
        try
        {
            using var client = new AdminClient(socket, TimeSpan.FromSeconds(2));
            return client.NodesAsync().GetAwaiter().GetResult().Nodes.Count(n => n.State == NodeLiveness.Alive);
        }
        catch (AdminException)
        {
            return 0;
        }
    }
}
