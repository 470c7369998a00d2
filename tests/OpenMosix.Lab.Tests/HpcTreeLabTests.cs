using System.Globalization;
using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// /run/openmosix/hpc and /run/openmosix/proc, openMosix's /proc/hpc and /proc/PID files, in a 3-node lab: every
/// node's figures readable from any node, root's writes to admin and decay files acting through the admin API, and
/// processes moved by writing a node id to their migrate file, at home and (for a guest) where it runs.
/// </summary>
public sealed class HpcTreeLabTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void Node_figures_admin_switches_decay_and_migrate_files_read_and_act_like_proc_hpc()
    {
        using var lab = TestLab.WithDaemons(3, "--timeout", "15", "--no-balance");
        string Hpc(int node, string path) => Path.Join(lab.Layout.NodeHostRunDirectory(node), "hpc", path);

        foreach (var n in new[] { 1, 2, 3 })
        {
            // The files are rewritten every second: the lab saw every node alive through the API a moment before
            // the tree's first rewrite after that may have happened.
            string[] figures = [];
            Poll.Until(() => (figures = lab.Exec(1, "sh", "-c", $"cd /run/openmosix/hpc/nodes/{n} && cat status load CPUs speed tmem mem util")
                .Succeeded().Stdout.Split('\n'))[0] == "alive", Patience, $"node {n}'s status file to read alive");
            Assert.InRange(double.Parse(figures[1], CultureInfo.InvariantCulture), 0, 100);
            Assert.True(int.Parse(figures[2], CultureInfo.InvariantCulture) >= 1, $"node {n} CPUs {figures[2]}");
            Assert.True(long.Parse(figures[3], CultureInfo.InvariantCulture) > 0, $"node {n} speed {figures[3]}");
            Assert.True(long.Parse(figures[4], CultureInfo.InvariantCulture) >= long.Parse(figures[5], CultureInfo.InvariantCulture), "tmem below mem");
            Assert.InRange(int.Parse(figures[6], CultureInfo.InvariantCulture), 0, 100);
        }

        // A root write acts; what is read back is the truth after it.
        File.WriteAllText(Hpc(2, "admin/block"), "1\n");
        Poll.Until(() => SelfFlags(lab, 2).Contains("blocked"), Patience, "writing 1 to admin/block to block node 2");
        Poll.Until(() => File.ReadAllText(Hpc(2, "admin/block")) == "1\n", Patience, "admin/block to read 1");
        File.WriteAllText(Hpc(2, "admin/block"), "0\n");
        Poll.Until(() => !SelfFlags(lab, 2).Contains("blocked"), Patience, "writing 0 to admin/block to unblock node 2");
        File.WriteAllText(Hpc(2, "admin/quiet"), "maybe\n");
        Poll.Until(() => File.ReadAllText(Hpc(2, "admin/quiet")) == "0\n", Patience, "a value admin/quiet does not take to read back as 0");
        Assert.DoesNotContain("quiet", SelfFlags(lab, 2));

        File.WriteAllText(Hpc(1, "decay/slow"), "123\n");
        Poll.Until(() => Decay(lab, 1).SlowSeconds == 123, Patience, "writing decay/slow to change the slow half-life");
        File.WriteAllText(Hpc(1, "decay/fast"), "999\n"); // longer than slow: refused by the API's own check
        Poll.Until(() => File.ReadAllText(Hpc(1, "decay/fast")) == $"{Decay(lab, 1).FastSeconds.ToString(CultureInfo.InvariantCulture)}\n"
                         && Decay(lab, 1).FastSeconds != 999, Patience, "an impossible fast half-life to be refused and read back unchanged");

        using var run = lab.Managed(1, TestPrograms.Locate("spinner"), "600");
        run.WaitForLines(1); // running its own program: before that it is om run, whose start-up descriptors cannot move
        var proc1 = Path.Join(lab.Layout.NodeHostRunDirectory(1), "proc", $"{run.Pid}");
        Poll.Until(() => File.Exists(Path.Join(proc1, "migrate")), Patience, "the process's migrate file at home");
        Assert.Equal("0\n", File.ReadAllText(Path.Join(proc1, "migrate")));
        File.WriteAllText(Path.Join(proc1, "migrate"), "2\n");
        Poll.Until(() => File.ReadAllText(Path.Join(proc1, "where")) == "2\n", Patience, "writing 2 to migrate to move the process to node 2");
        Assert.Equal("2", lab.Exec(1, Om.Path, "where", $"{run.Pid}").Succeeded().Stdout.Trim());
        // mps at home shows what the copy uses where it runs, its CPU time counted over the move.
        ProcessRow Row() => lab.Processes(1).Processes.Single(p => p.Pid == run.Pid);
        var before = Row().CpuSeconds;
        Poll.Until(() => Row() is { State: "remote", CpuPercent: > 10, MemoryBytes: > 0 } row && row.CpuSeconds > before + 1, Patience,
            "om ps at home to show the spinner's CPU use and memory on node 2");
        var away = Row().CpuSeconds;
        // mtop at home lists it busiest first, on node 2, with the CPU its copy uses there.
        Poll.Until(() => lab.Exec(1, Om.Path, "top", "--once").Succeeded().Stdout.Split('\n')
                .FirstOrDefault(l => l.StartsWith($"{run.Pid} ", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                is [_, _, "1", "2", "remote", var cpu, ..] && double.Parse(cpu, CultureInfo.InvariantCulture) > 10,
            Patience, "mtop at home to show the spinner on node 2, busy");

        // On node 2 the guest has files of its own, naming its home and its PID there.
        string? guest = null;
        Poll.Until(() => (guest = Directory.EnumerateDirectories(Path.Join(lab.Layout.NodeHostRunDirectory(2), "proc"))
            .FirstOrDefault(d => File.Exists(Path.Join(d, "homepid")) && File.ReadAllText(Path.Join(d, "homepid")) == $"{run.Pid}\n")) is not null,
            Patience, "the guest's directory on node 2");
        Assert.Equal("1\n", File.ReadAllText(Path.Join(guest!, "home")));
        File.WriteAllText(Path.Join(guest!, "migrate"), "home\n");
        Poll.Until(() => File.ReadAllText(Path.Join(proc1, "where")) == "1\n", Patience, "writing home to the guest's migrate file to send it home");
        Assert.Equal("1", lab.Exec(1, Om.Path, "where", $"{run.Pid}").Succeeded().Stdout.Trim());
        Assert.True(Row().CpuSeconds >= away, $"CPU time went back from {away} s to {Row().CpuSeconds} s on the way home");
    }

    private static IReadOnlyList<string> SelfFlags(TestLab lab, int node) =>
        JsonSerializer.Deserialize(lab.Exec(node, Om.Path, "status", "--json").Succeeded().Stdout, AdminJsonContext.Default.ClusterView)!
            .Nodes.Single(n => n.IsSelf).Flags;

    private static DecaySetting Decay(TestLab lab, int node) =>
        JsonSerializer.Deserialize(lab.Exec(node, Om.Path, "mosctl", "getdecay", "--json").Succeeded().Stdout, AdminJsonContext.Default.DecaySetting)!;
}
