using System.Diagnostics;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
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

    /// <summary>How long `om lab netem` waits for a killed relay and its tap to be gone (a relay ends in well under a
    /// second even at load 60; a longer wait means it is stuck, say frozen, and the command says so).</summary>
    public static readonly TimeSpan EndTimeout = TimeSpan.FromSeconds(30);
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

    /// <summary>The host veth back on the bridge (cut still, if the node is), then the relay ended; returns once the
    /// relay has ended and its tap is gone, or throws a one-line <see cref="LabException"/> after
    /// <see cref="EndTimeout"/>.</summary>
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
        var clock = Stopwatch.StartNew();
        End(node.Id, pid, clock);
        // The tap closes with the relay's descriptors, before it counts as ended; this only makes sure of it.
        var tap = layout.Name.RelayTap(node.Id);
        while (Directory.Exists($"/sys/class/net/{tap}"))
        {
            if (clock.Elapsed > EndTimeout)
                throw new LabException($"the tap {tap} of node {node.Id}'s link relay is still there {EndTimeout.TotalSeconds:F0} s after the relay was killed");
            Thread.Sleep(10);
        }
    }

    /// <summary>Kills the relay <paramref name="pid"/> and waits for its end. SIGKILL only starts the end: the tap goes
    /// when the relay's last thread closes it, and the relay is init's (its starter has exited), so waitpid cannot wait
    /// for it; a pidfd turns readable once every thread has ended.</summary>
    private static void End(int node, int pid, Stopwatch clock)
    {
        PidFd relay;
        try
        {
            relay = PidFd.Open(pid);
        }
        catch (ProcessAccessException)
        {
            return;
        }
        using (relay)
        {
            // Only the relay: a PID recycled since belongs to something else (the pidfd holds the one checked here).
            if (!IsRelay(pid)) return;
            try
            {
                relay.SendSignal(Signals.SIGKILL);
            }
            catch (SyscallException e) when (e.Error == Errno.ESRCH)
            {
            }
            using var watched = new SafeFileHandle(relay.DangerousGetHandle(), ownsHandle: false);
            while (!Readiness.WaitReadable(watched, Remaining(clock)))
            {
                if (clock.Elapsed > EndTimeout)
                    throw new LabException($"the link relay of node {node} (pid {pid}) did not end within {EndTimeout.TotalSeconds:F0} s of SIGKILL");
            }
        }
        try
        {
            // Ours when it failed as it started; otherwise init's to collect.
            Waiting.WaitPid(pid, 0);
        }
        catch (SyscallException e) when (e.Error == Errno.ECHILD)
        {
        }
    }

    private static TimeSpan Remaining(Stopwatch clock) =>
        EndTimeout - clock.Elapsed is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;

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
