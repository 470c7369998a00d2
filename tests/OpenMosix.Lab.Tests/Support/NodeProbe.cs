using System.Globalization;
using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>
/// What the fault tests look at from outside the lab code: plain processes in a node, whether one node reaches
/// another (ping, a TCP connect), round-trip times, what is in a node's cgroups, and what a node's omd thinks of another.
/// </summary>
internal static class NodeProbe
{
    public const int MigrationPort = 5725;

    /// <summary>`om lab exec NODE -- sleep 600` as a child of the test, returned once it is sleep inside the node.</summary>
    public static ChildProcess StartSleeper(TestLab lab, int node)
    {
        var sleeper = ChildProcess.Start(Om.Path, ["lab", "exec", "--name", lab.Name, $"{node}", "--", "sleep", "600"]);
        Poll.Until(() => Comm(sleeper.Pid) == "sleep" && LabInspector.IsInNode(lab.Layout, node, sleeper.Pid),
            TimeSpan.FromSeconds(20), $"sleep {sleeper.Pid} to run in node {node}");
        return sleeper;
    }

    public static bool Pings(TestLab lab, int from, int to) =>
        lab.Exec(from, "ping", "-c", "1", "-W", "1", lab.Address(to)).ExitCode == 0;

    /// <summary>A TCP connect from one node to another's omd (migration port), given 2 s.</summary>
    public static bool Connects(TestLab lab, int from, int to) =>
        lab.Exec(from, "timeout", "2", "bash", "-c", $"exec 3<>/dev/tcp/{lab.Address(to)}/{MigrationPort}").ExitCode == 0;

    /// <summary>The average of 5 pings' round trips, in milliseconds.</summary>
    public static double RoundTripMilliseconds(TestLab lab, int from, int to)
    {
        var ping = lab.Exec(from, "ping", "-c", "5", "-i", "0.2", "-W", "2", lab.Address(to)).Succeeded();
        // "rtt min/avg/max/mdev = 0.045/0.051/0.062/0.007 ms"
        var summary = ping.Stdout.Split('\n').Single(l => l.StartsWith("rtt ", StringComparison.Ordinal));
        return double.Parse(summary.Split('=')[1].Trim().Split('/')[1], CultureInfo.InvariantCulture);
    }

    /// <summary>The PIDs in the node's cpu and memory cgroups, read directly.</summary>
    public static IReadOnlySet<int> CgroupProcesses(TestLab lab, int node) =>
        new[] { lab.Layout.CpuCgroup(node), lab.Layout.MemoryCgroup(node) }
            .SelectMany(dir => File.ReadAllLines(Path.Combine(dir, "cgroup.procs")))
            .Select(line => int.Parse(line, CultureInfo.InvariantCulture)).ToHashSet();

    /// <summary>The cluster as <paramref name="observer"/>'s omd sees it (`om status --json`).</summary>
    public static ClusterView View(TestLab lab, int observer) =>
        JsonSerializer.Deserialize(lab.Exec(observer, Om.Path, "status", "--json").Succeeded().Stdout, AdminJsonContext.Default.ClusterView)!;

    /// <summary>"alive", "suspect", "dead" as <paramref name="observer"/>'s omd sees <paramref name="node"/> (`om status`);
    /// null while that omd does not answer.</summary>
    public static string? StateSeen(TestLab lab, int observer, int node)
    {
        var status = lab.Exec(observer, Om.Path, "status", "--json");
        if (status.ExitCode != 0) return null;
        var view = JsonSerializer.Deserialize(status.Stdout, AdminJsonContext.Default.ClusterView)!;
        return view.Nodes.FirstOrDefault(n => n.Id == node)?.State.Name();
    }

    /// <summary>Whether netem exists in this kernel, asked in a network namespace of its own.</summary>
    public static bool KernelHasNetem() =>
        CommandRun.Run("unshare", ["-n", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"]).ExitCode == 0;

    private static string Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }
}
