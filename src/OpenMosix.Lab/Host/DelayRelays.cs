using System.Diagnostics;
using System.Globalization;
using OpenMosix.Lab.State;
using OpenMosix.Linux;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Lab.Host;

/// <summary>
/// Starts and stops a node's <see cref="DelayRelay"/> (`om lab link-relay`, a process of the host, not of the node:
/// `om lab kill` of the node leaves its link as it was) and rewires the bridge around it: the tap in, the host veth out,
/// and back. A cut node's port stays cut across the swap. Teardown needs nothing more: deleting the veth ends the relay
/// (its packet socket fails), and its tap goes with it.
/// </summary>
public static class DelayRelays
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private const string Ip = "ip";

    /// <summary>The node's port on the lab bridge: its tap while a relay delays its link, else its host veth.</summary>
    public static string BridgePortOf(LabLayout layout, NodeState node) =>
        node.DelayRelayPid is not null ? layout.Name.RelayTap(node.Id) : layout.Name.HostVeth(node.Id);

    /// <summary>Starts the relay for <paramref name="settings"/> and puts it in the node's link; returns its PID.</summary>
    public static int Start(LabLayout layout, NodeState node, NetemSettings settings, string omPath)
    {
        var veth = layout.Name.HostVeth(node.Id);
        var tap = layout.Name.RelayTap(node.Id);
        var logPath = Path.Combine(layout.NodeDirectory(node.Id), "link-relay.log");
        var pid = DetachedProcess.Spawn(omPath,
        [
            omPath, "lab", "link-relay", "--name", layout.Name.Value, $"{node.Id}",
            "--delay", Format(settings.DelayMilliseconds), "--jitter", Format(settings.JitterMilliseconds),
        ], logPath);
        try
        {
            // The relay opens its packet socket on the veth first, then makes the tap: a tap means both are open.
            var clock = Stopwatch.StartNew();
            while (!Directory.Exists($"/sys/class/net/{tap}"))
            {
                if (Waiting.WaitPid(pid, Waiting.WNOHANG) is { Raw: not -1 })
                    throw new LabException($"the link relay of node {node.Id} ended before its link was up: {LastLine(logPath)}");
                if (clock.Elapsed > ReadyTimeout)
                    throw new LabException($"the link relay of node {node.Id} did not make its tap {tap} within {ReadyTimeout.TotalSeconds:F0} s");
                Thread.Sleep(10);
            }
            ToolRun.Run($"put {tap} on {layout.Name.Bridge}", Ip, "link", "set", "dev", tap, "master", layout.Name.Bridge);
            if (node.Cut || node.Killed) BridgePort.Disable(tap);
            ToolRun.Run($"bring {tap} up", Ip, "link", "set", "dev", tap, "up");
            ToolRun.Run($"take {veth} off {layout.Name.Bridge}", Ip, "link", "set", "dev", veth, "nomaster");
            return pid;
        }
        catch
        {
            Stop(layout, node with { DelayRelayPid = pid });
            throw;
        }
    }

    /// <summary>The host veth back on the bridge (cut still, if the node is), then the relay ended.</summary>
    public static void Stop(LabLayout layout, NodeState node)
    {
        if (node.DelayRelayPid is not { } pid) return;
        var veth = layout.Name.HostVeth(node.Id);
        // Its master link, when it has one, is a symbolic link to the bridge's directory.
        if (!Directory.Exists($"/sys/class/net/{veth}/master") && Directory.Exists($"/sys/class/net/{veth}"))
        {
            ToolRun.Run($"put {veth} back on {layout.Name.Bridge}", Ip, "link", "set", "dev", veth, "master", layout.Name.Bridge);
            if (node.Cut || node.Killed) BridgePort.Disable(veth);
        }
        // Only the relay: a PID recycled since belongs to something else.
        if (!IsRelay(pid)) return;
        Signals.Kill(pid, Signals.SIGKILL);
        try
        {
            // Ours when it failed as it started; otherwise init's to collect.
            Waiting.WaitPid(pid, 0);
        }
        catch (SyscallException e) when (e.Error == Errno.ECHILD)
        {
        }
    }

    private static bool IsRelay(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains("\0link-relay\0", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string LastLine(string logPath)
    {
        var lines = File.Exists(logPath) ? File.ReadAllLines(logPath) : [];
        return lines.LastOrDefault(l => l.Length > 0) ?? "(its log is empty)";
    }

    private static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
