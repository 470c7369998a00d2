using OpenMosix.Lab.Host;
using OpenMosix.Lab.State;

namespace OpenMosix.Lab;

/// <summary>What `om lab restart` did: the omd it stopped and how, and the new one.</summary>
public sealed record RestartReport(int OldPid, DaemonStop Stop, int StartedPid);

/// <summary>What `om lab kill` did: how many processes of the node it killed.</summary>
public sealed record KillReport(int Processes);

/// <summary>
/// The faults tests and benchmarks inject into one node of a running lab: omd restarted, the node crashed and revived,
/// its network cut and healed, its link made slow and lossy. Each checks that the node is in a state where the fault
/// makes sense, acts on the host, and records the fault in the lab's state file, under the lab lock; a wait for the
/// new omd to accept connections happens after the lock is released.
/// </summary>
public static class NodeFaults
{
    private static readonly TimeSpan KillTimeout = TimeSpan.FromSeconds(10);

    /// <summary>omd stopped with SIGTERM (SIGKILL after <see cref="NodeDaemons.StopGrace"/>), or with SIGKILL at once
    /// when <paramref name="kill"/> (omd crashing alone: no drain, every other process of the node left running), and
    /// started again as `up` starts it.</summary>
    public static RestartReport Restart(LabLayout layout, int node, string omPath, TimeSpan readyTimeout, bool kill = false)
    {
        RestartReport report;
        PendingDaemon daemon;
        using (Lock(layout))
        {
            var (state, current) = Load(layout, node);
            if (current.Killed) throw WrongState(layout, node, "is killed; `om lab revive {0}` brings it back");
            if (current.DaemonPid is not { } old) throw WrongState(layout, node, "has no omd to restart (the lab was made with --no-daemon)");
            var stop = kill ? NodeDaemons.Kill(layout, node, old) : NodeDaemons.Stop(layout, node, old);
            (var started, daemon) = NodeDaemons.Start(layout, current, omPath, withDiscovery: false);
            Save(layout, state, started with { DaemonRestarts = current.DaemonRestarts + 1 });
            report = new RestartReport(old, stop, daemon.Pid);
        }
        DaemonReadiness.WaitAll([daemon], readyTimeout);
        return report;
    }

    /// <summary>
    /// A crash, as the other nodes see a machine that lost power: its bridge port disabled first, so that nothing the
    /// dying processes send (a FIN, an RST) gets out, then every process of the node SIGKILLed, then the TCP sockets
    /// they leave behind destroyed.
    /// </summary>
    public static KillReport Kill(LabLayout layout, int node)
    {
        using var labLock = Lock(layout);
        var (state, current) = Load(layout, node);
        if (current.Killed) throw WrongState(layout, node, "is already killed; `om lab revive {0}` brings it back");
        if (!current.Cut) BridgePort.Disable(DelayRelays.BridgePortOf(layout, current));
        var victims = LabProcesses.FindInNode(layout, node).Count;
        var survivors = LabProcesses.KillAllInNode(layout, node, KillTimeout);
        // Recorded even when something survived: the node is down either way, and revive finishes the job.
        Save(layout, state, current with { Killed = true });
        if (survivors.Count > 0)
            throw new LabException($"lab {layout.Name}: node {node}: {survivors.Count} processes still alive after " +
                $"{KillTimeout.TotalSeconds:F0} s (PIDs {string.Join(' ', survivors.Order().Take(10))})");
        NodeSockets.DestroyAllTcp(layout.NetnsFile(node));
        return new KillReport(victims);
    }

    /// <summary>A killed node back, empty: network reconnected, omd (and omdiscd) started fresh, omd accepting connections.</summary>
    public static int? Revive(LabLayout layout, int node, string omPath, TimeSpan readyTimeout)
    {
        PendingDaemon? daemon = null;
        using (Lock(layout))
        {
            var (state, current) = Load(layout, node);
            if (!current.Killed) throw WrongState(layout, node, "is not killed; `om lab restart {0}` restarts its omd");
            // Whatever entered the node since the crash goes: a revived node starts empty.
            var survivors = LabProcesses.KillAllInNode(layout, node, KillTimeout);
            if (survivors.Count > 0)
                throw new LabException($"lab {layout.Name}: node {node}: {survivors.Count} processes still alive after {KillTimeout.TotalSeconds:F0} s");
            BridgePort.Enable(DelayRelays.BridgePortOf(layout, current));
            var revived = current with { Killed = false, Cut = false, Revivals = current.Revivals + 1 };
            // A node that never had an omd (--no-daemon) comes back without one.
            if (current.DaemonPid is not null) (revived, daemon) = NodeDaemons.Start(layout, revived, omPath, state.Discovery);
            Save(layout, state, revived);
        }
        if (daemon is not null) DaemonReadiness.WaitAll([daemon], readyTimeout);
        return daemon?.Pid;
    }

    /// <summary>A partition: the node's bridge port disabled; its processes run on, unable to reach or be reached.</summary>
    public static void Cut(LabLayout layout, int node)
    {
        using var labLock = Lock(layout);
        var (state, current) = Load(layout, node);
        if (current.Killed) throw WrongState(layout, node, "is killed, its network is cut already; `om lab revive {0}` brings it back");
        if (current.Cut) throw WrongState(layout, node, "is cut off already; `om lab heal {0}` reconnects it");
        BridgePort.Disable(DelayRelays.BridgePortOf(layout, current));
        Save(layout, state, current with { Cut = true });
    }

    public static void Heal(LabLayout layout, int node)
    {
        using var labLock = Lock(layout);
        var (state, current) = Load(layout, node);
        if (current.Killed) throw WrongState(layout, node, "is killed; `om lab revive {0}` brings it back");
        if (!current.Cut) throw WrongState(layout, node, "is not cut off; `om lab cut {0}` cuts it");
        BridgePort.Enable(DelayRelays.BridgePortOf(layout, current));
        Save(layout, state, current with { Cut = false });
    }

    /// <summary>Delay and loss on the node's link in both directions, or (null) the link back to normal. Without netem
    /// in the kernel the delay is a relay's (<see cref="DelayRelay"/>, started from <paramref name="omPath"/>).</summary>
    public static void Netem(LabLayout layout, int node, NetemSettings? settings, string omPath)
    {
        if (settings?.Problem() is { } problem) throw new LabException(problem);
        using var labLock = Lock(layout);
        var (state, current) = Load(layout, node);
        var netns = layout.Name.NetworkNamespace(node);
        // An earlier relay goes first, whatever comes next: settings are applied whole, never on top of old ones.
        DelayRelays.Stop(layout, current);
        current = current with { DelayRelayPid = null, Netem = null };
        Save(layout, state, current);
        if (settings is null) LinkEmulation.Clear(netns, layout.Name.HostVeth(node));
        else if (!LinkEmulation.Apply(netns, layout.Name.HostVeth(node), settings) && settings.DelayMilliseconds > 0)
            current = current with { DelayRelayPid = DelayRelays.Start(layout, current, settings, omPath) };
        Save(layout, state, current with { Netem = settings });
    }

    private static LabLock Lock(LabLayout layout)
    {
        if (!Environment.IsPrivilegedProcess) throw new LabException($"lab {layout.Name}: faults need root (cgroups, links, signals)");
        return LabLock.AcquireFor(layout);
    }

    private static (LabState State, NodeState Node) Load(LabLayout layout, int node)
    {
        var state = LabStateStore.Load(layout);
        var found = state.Nodes.FirstOrDefault(n => n.Id == node)
            ?? throw new LabException($"lab {layout.Name} has no node {node} (its nodes are 1-{state.Nodes.Count})");
        return (state, found);
    }

    private static void Save(LabLayout layout, LabState state, NodeState changed) =>
        LabStateStore.Save(layout, state with { Nodes = [.. state.Nodes.Select(n => n.Id == changed.Id ? changed : n)] });

    private static LabException WrongState(LabLayout layout, int node, string what) =>
        new($"lab {layout.Name}: node {node} {string.Format(System.Globalization.CultureInfo.InvariantCulture, what, node)}");
}
