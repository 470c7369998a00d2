using OpenMosix.Lab.Host;
using OpenMosix.Lab.State;
using OpenMosix.Linux;

namespace OpenMosix.Lab;

/// <summary>How a stop went: nothing was running, the process ended on SIGTERM, or it had to be SIGKILLed.</summary>
public enum DaemonStop
{
    NotRunning,
    Terminated,
    Killed,
}

/// <summary>
/// Starting and stopping a node's omd (and omdiscd), the one way `up`, `restart` and `revive` all use: the node's own
/// omd.toml, entered through `om lab exec` so it runs in the node's namespaces and cgroups, its output appended to the
/// node's log.
/// </summary>
public static class NodeDaemons
{
    /// <summary>How long a lab node's omd may drain when it stops (its omd.toml's shutdown.drain_timeout_ms).</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(8);

    /// <summary>How long omd gets to finish after SIGTERM before it is killed: its drain, and then its own stop.</summary>
    public static readonly TimeSpan StopGrace = DrainTimeout + TimeSpan.FromSeconds(7);

    /// <summary>Starts omd in <paramref name="node"/>, and omdiscd too when <paramref name="withDiscovery"/>; returns the
    /// node with their PIDs and what to wait on for omd to be ready.</summary>
    public static (NodeState Node, PendingDaemon Daemon) Start(LabLayout layout, NodeState node, string omPath, bool withDiscovery)
    {
        var daemonLog = layout.NodeDaemonLog(node.Id);
        var daemon = NodeProcessLauncher.Start(layout, node.Id, omPath, NodeProcessLauncher.DaemonCommand(layout, node.Id, omPath), daemonLog);
        var started = node with { DaemonPid = daemon };
        if (withDiscovery)
            started = started with
            {
                DiscoverPid = NodeProcessLauncher.Start(layout, node.Id, omPath, NodeProcessLauncher.DiscoverCommand(layout, node.Id, omPath),
                    layout.NodeDiscoverLog(node.Id)),
            };
        return (started, new PendingDaemon(node.Id, daemon, layout.NodeHostSocket(node.Id), daemonLog));
    }

    /// <summary>
    /// SIGTERM, then waits up to <see cref="StopGrace"/> for the process to be gone, then SIGKILL. A PID no longer in
    /// the node (exited, or reused by something else) is left alone.
    /// </summary>
    public static DaemonStop Stop(LabLayout layout, int node, int pid)
    {
        if (!IsRunningInNode(layout, node, pid)) return DaemonStop.NotRunning;
        Signal(pid, Signals.SIGTERM);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < StopGrace)
        {
            if (!IsRunningInNode(layout, node, pid)) return DaemonStop.Terminated;
            Thread.Sleep(20);
        }
        return Kill(layout, node, pid);
    }

    /// <summary>omd SIGKILLed at once, as a crash of omd alone; waits until it is gone.</summary>
    public static DaemonStop Kill(LabLayout layout, int node, int pid)
    {
        if (!IsRunningInNode(layout, node, pid)) return DaemonStop.NotRunning;
        Signal(pid, Signals.SIGKILL);
        var killed = System.Diagnostics.Stopwatch.StartNew();
        while (IsRunningInNode(layout, node, pid))
        {
            if (killed.Elapsed > StopGrace)
                throw new LabException($"node {node}: omd (PID {pid}) is still there {StopGrace.TotalSeconds:F0} s after SIGKILL");
            Thread.Sleep(20);
        }
        return DaemonStop.Killed;
    }

    // A zombie has finished running: it no longer holds the node's socket or ports, only its parent has yet to reap it.
    private static bool IsRunningInNode(LabLayout layout, int node, int pid) =>
        LabInspector.IsInNode(layout, node, pid) && !OpenMosix.Linux.Proc.ProcFs.HasEnded(pid);

    private static void Signal(int pid, int signal)
    {
        try
        {
            Signals.Kill(pid, signal);
        }
        catch (ProcessAccessException)
        {
            // Gone already: what the signal was for.
        }
    }
}
