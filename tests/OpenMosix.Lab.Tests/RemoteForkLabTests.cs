using System.Globalization;
using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Remote fork: a process running away from home forks, and its children, born on its node and its real children there,
/// are listed at home (with their node and the deputy as parent), signalled from there, and dropped when they end. Each
/// test gets a lab of its own without balancing, so that nothing moves but what the test moves.
/// </summary>
public sealed class RemoteForkLabTests : IDisposable
{
    private readonly string _markers = Path.Combine(Path.GetTempPath(), $"om-rfork-{Guid.NewGuid():N}");

    private string Marker(string name) => $"{_markers}-{name}";

    private static IReadOnlyList<ProcessRow> ForkedAway(TestLab lab) =>
        [.. lab.Processes(1).Processes.Where(p => p.Origin == "forked-away")];

    /// <summary>A shell started at home, moved to node 2 while it runs builtins only, that then runs <paramref name="jobs"/>
    /// there; its first line is the PIDs of the jobs it started (theirs on node 2).</summary>
    private static string Spinner => TestPrograms.Locate("spinner");

    private ManagedRun ShellForkingOnNodeTwo(TestLab lab, string jobs)
    {
        var script = $$"""
            while [ ! -e {{Marker("moved")}} ]; do :; done
            {{jobs}}
            """;
        var shell = lab.Managed(1, "bash", "-c", script);
        Poll.Until(() => lab.Processes(1).Processes.Any(p => p.Pid == shell.Pid), TimeSpan.FromSeconds(20), "the shell to be managed");
        lab.Migrate(1, shell.Pid, "2");
        File.WriteAllText(Marker("moved"), "");
        return shell;
    }

    [Fact]
    public void Children_forked_away_from_home_are_listed_and_signalled_at_home_and_dropped_when_they_end()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var shell = ShellForkingOnNodeTwo(lab, $$"""
            sleep 300 & a=$!
            bash -c 'while [ ! -e {{Marker("end")}} ]; do sleep 0.1; done; exit 3' & b=$!
            echo "$a $b"
            wait $a; echo "status $?"
            wait $b; echo "status $?"
            while [ ! -e {{Marker("done")}} ]; do :; done
            """);
        shell.WaitForLines(1, TimeSpan.FromSeconds(30));
        var pids = shell.Lines()[0].Split(' ').Select(int.Parse).ToArray();

        Poll.Until(() => pids.All(pid => ForkedAway(lab).Any(p => p.Pid == pid)), TimeSpan.FromSeconds(20), "home to list both children");
        Assert.All(ForkedAway(lab).Where(p => pids.Contains(p.Pid)), row =>
            Assert.Equal((1, 2, shell.Pid, "remote"), (row.Home, row.Where, row.ParentPid, row.State)));
        var tree = lab.Exec(1, Om.Path, "ps", "--tree").Succeeded().Stdout;
        Assert.Contains("\\_ sleep 300", tree, StringComparison.Ordinal);

        var killed = lab.Exec(1, Om.Path, "kill", $"{pids[0]}").Succeeded();
        Assert.Contains($"signalled {pids[0]} on node 2", killed.Stdout, StringComparison.Ordinal);
        File.WriteAllText(Marker("end"), "");
        shell.WaitForLines(3, TimeSpan.FromSeconds(30));
        Assert.Equal(["status 143", "status 3"], shell.Lines().Skip(1));
        // The shell runs on there: its children are gone from home's list because they ended.
        Poll.Until(() => !ForkedAway(lab).Any(p => pids.Contains(p.Pid)), TimeSpan.FromSeconds(10), "home to drop the ended children");
        Assert.Contains(lab.Processes(1).Processes, p => p.Pid == shell.Pid && p.State == "remote");

        File.WriteAllText(Marker("done"), "");
        Assert.Equal(new ChildExit(0, 0), shell.Process.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void When_the_node_a_parent_forked_on_dies_home_loses_the_parent_as_before_and_lists_none_of_its_children()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance", "--checkpoint-interval", "0");
        using var shell = ShellForkingOnNodeTwo(lab, "sleep 300 & sleep 300 & wait");
        Poll.Until(() => ForkedAway(lab).Count(p => p.ParentPid == shell.Pid) == 2, TimeSpan.FromSeconds(30), "home to list both children");

        NodeFailureLabTests.CrashNode(lab, 2);

        Assert.Equal(new ChildExit(0, Signals.SIGKILL), shell.Process.WaitForExit(TimeSpan.FromSeconds(30)));
        lab.WaitForDaemonLog(1, $"process {shell.Pid} lost: node 2 is gone");
        Poll.Until(() => ForkedAway(lab).Count == 0, TimeSpan.FromSeconds(10), "home to drop the children of the lost shell");
    }

    [Fact]
    public void A_child_forked_away_is_moved_on_to_a_third_node_by_om_migrate_at_home_and_its_parent_waits_for_it_as_before()
    {
        using var lab = TestLab.WithDaemons(3, "--timeout", "15", "--no-balance");
        const string jobs = """
            {0} {1} & a=$!
            {0} {1} & b=$!
            echo "$a $b"
            wait $a; echo "status $?"
            wait $b; echo "status $?"
            """;
        using var shell = ShellForkingOnNodeTwo(lab, string.Format(CultureInfo.InvariantCulture, jobs, Spinner, 4));
        // The jobs' own lines may come first.
        Poll.Until(() => shell.Lines().Any(IsPids), TimeSpan.FromSeconds(30), "the shell's line of its jobs' PIDs");
        var b = int.Parse(shell.Lines().First(IsPids).Split(' ')[1], CultureInfo.InvariantCulture);
        Poll.Until(() => ForkedAway(lab).Any(p => p.Pid == b), TimeSpan.FromSeconds(20), "home to list the second job");

        var moved = lab.Exec(1, Om.Path, "migrate", $"{b}", "3").Succeeded();

        Assert.Contains($"process {b} moved from node 2 to node 3", moved.Stderr, StringComparison.Ordinal);
        // Home lists it on node 3, still its shell's child; its birth node keeps its deputy there, under the same PID.
        Poll.Until(() => ForkedAway(lab).Any(p => p.Pid == b && p.Where == 3), TimeSpan.FromSeconds(10), "home to list the job on node 3");
        Assert.Equal(shell.Pid, ForkedAway(lab).Single(p => p.Pid == b).ParentPid);
        Assert.Contains(lab.Processes(2).Processes, p => p.Pid == b && p.State == "remote" && p.Where == 3);
        Assert.Contains(lab.Processes(3).Processes, p => p.State == "guest" && p.Home == 2 && p.RemotePid == b);

        Assert.Equal(new ChildExit(0, 0), shell.Process.WaitForExit(TimeSpan.FromSeconds(180)));
        // What a plain run of the same jobs prints, in the order the waits decide; the spinners' lines come as they run.
        var lines = shell.Lines().Where(l => !IsPids(l)).ToList();
        Assert.Equal(["status 0", "status 0"], lines.Where(l => l.StartsWith("status", StringComparison.Ordinal)));
        Assert.Equal(["spinner done", "spinner done", "spinner start", "spinner start"],
            lines.Where(l => !l.StartsWith("status", StringComparison.Ordinal)).Order());
        var plain = Plain(string.Format(CultureInfo.InvariantCulture, jobs, Spinner, 0.2)).Where(l => !IsPids(l));
        Assert.Equal(plain.Order(), lines.Order());
        Poll.Until(() => !lab.Processes(2).Processes.Any(p => p.Pid == b), TimeSpan.FromSeconds(10), "no deputy left on node 2");
    }

    [Fact]
    public void A_child_that_outlives_its_copy_is_listed_at_home_until_it_ends_and_the_copy_ends_at_once_with_its_status()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var shell = ShellForkingOnNodeTwo(lab, $$"""
            bash -c 'while [ ! -e {{Marker("end")}} ]; do :; done; echo "orphan done"; exit 5' &
            echo "$!"
            while [ ! -e {{Marker("done")}} ]; do :; done
            exit 7
            """);
        shell.WaitForLines(1, TimeSpan.FromSeconds(30));
        var orphan = int.Parse(shell.Lines()[0], CultureInfo.InvariantCulture);
        Poll.Until(() => ForkedAway(lab).Any(p => p.Pid == orphan && p.ParentPid == shell.Pid), TimeSpan.FromSeconds(20), "home to list the child");

        File.WriteAllText(Marker("done"), "");

        // The shell's parent sees it end with its status while its child runs on, as at home.
        Assert.Equal(new ChildExit(7, 0), shell.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Poll.Until(() => ForkedAway(lab).Any(p => p.Pid == orphan && p.ParentPid == 1), TimeSpan.FromSeconds(20), "home to list the orphan under 1");
        Assert.Equal((1, 2, "remote"), ForkedAway(lab).Where(p => p.Pid == orphan).Select(p => (p.Home, p.Where, p.State)).Single());
        Assert.DoesNotContain(lab.Processes(1).Processes, p => p.Pid == shell.Pid);
        // Signals from home reach it over the link that outlives its parent (the lab's nodes share this PID namespace).
        lab.Exec(1, Om.Path, "kill", "-s", "STOP", $"{orphan}").Succeeded();
        Poll.Until(() => ProcFs.ReadStat(orphan).State == 'T', TimeSpan.FromSeconds(10), "the orphan to stop");
        lab.Exec(1, Om.Path, "kill", "-s", "CONT", $"{orphan}").Succeeded();

        File.WriteAllText(Marker("end"), "");
        // Its output still reaches the shell's stdout at home, after which home lets it go.
        Poll.Until(() => shell.Lines().Contains("orphan done"), TimeSpan.FromSeconds(30), "the orphan's last line at home");
        Assert.Equal([$"{orphan}", "orphan done"], shell.Lines());
        Poll.Until(() => !ForkedAway(lab).Any(p => p.Pid == orphan), TimeSpan.FromSeconds(10), "home to drop the ended orphan");
        lab.WaitForDaemonLog(2, "the last process it forked here ended");
    }

    [Fact]
    public void A_parent_away_with_children_on_its_node_refuses_to_move_naming_them_and_moves_once_it_has_waited_for_them()
    {
        using var lab = TestLab.WithDaemons(3, "--timeout", "15", "--no-balance");
        using var shell = ShellForkingOnNodeTwo(lab, $$"""
            sleep 300 & a=$!
            echo "$a"
            wait $a; echo "status $?"
            while [ ! -e {{Marker("done")}} ]; do :; done
            """);
        shell.WaitForLines(1, TimeSpan.FromSeconds(30));
        var child = int.Parse(shell.Lines()[0], CultureInfo.InvariantCulture);
        Poll.Until(() => ForkedAway(lab).Any(p => p.Pid == child), TimeSpan.FromSeconds(20), "home to list the child");

        // Home or on to a third node: it would leave its child behind without a parent there.
        foreach (var target in new[] { "home", "3" })
        {
            var refused = lab.Exec(1, Om.Path, "migrate", $"{shell.Pid}", target);
            Assert.True(refused.ExitCode != 0, refused.ToString());
            Assert.Contains($"has a child process ({child}) on node 2", refused.Stderr + refused.Stdout, StringComparison.Ordinal);
        }
        Assert.Contains(lab.Processes(1).Processes, p => p.Pid == shell.Pid && p.State == "remote" && p.Where == 2);
        Assert.Contains(ForkedAway(lab), p => p.Pid == child && p.ParentPid == shell.Pid);

        lab.Exec(1, Om.Path, "kill", $"{child}").Succeeded();
        shell.WaitForLines(2, TimeSpan.FromSeconds(30));
        Assert.Equal("status 143", shell.Lines()[1]);
        Poll.Until(() => !ForkedAway(lab).Any(p => p.Pid == child), TimeSpan.FromSeconds(10), "home to drop the reaped child");
        lab.Migrate(1, shell.Pid, "3");
        Assert.Contains(lab.Processes(1).Processes, p => p.Pid == shell.Pid && p.State == "remote" && p.Where == 3);
        File.WriteAllText(Marker("done"), "");
        Assert.Equal(new ChildExit(0, 0), shell.Process.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void What_a_child_moved_on_forks_on_its_new_node_is_listed_signalled_and_moved_from_the_jobs_home()
    {
        using var lab = TestLab.WithDaemons(3, "--timeout", "15", "--no-balance");
        using var shell = ShellForkingOnNodeTwo(lab, $$"""
            bash -c 'while [ ! -e {{Marker("fork")}} ]; do :; done; sleep 300 & echo "grandchild $!"; wait $!; echo "grandchild status $?"; exit 4' & b=$!
            echo "$b"
            wait $b; echo "status $?"
            """);
        shell.WaitForLines(1, TimeSpan.FromSeconds(30));
        var child = int.Parse(shell.Lines()[0], CultureInfo.InvariantCulture);
        Poll.Until(() => ForkedAway(lab).Any(p => p.Pid == child), TimeSpan.FromSeconds(20), "home to list the child");
        lab.Exec(1, Om.Path, "migrate", $"{child}", "3").Succeeded();
        File.WriteAllText(Marker("fork"), "");

        Poll.Until(() => shell.Lines().Any(l => l.StartsWith("grandchild ", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the child to fork on node 3");
        var grandchild = int.Parse(shell.Lines().First(l => l.StartsWith("grandchild ", StringComparison.Ordinal)).Split(' ')[1], CultureInfo.InvariantCulture);
        // Born on node 3, which tells node 2 (the child's home), which tells node 1 (the job's home).
        Poll.Until(() => ForkedAway(lab).Any(p => p.Pid == grandchild), TimeSpan.FromSeconds(20), "the job's home to list the grandchild");
        Assert.Equal((3, child), ForkedAway(lab).Where(p => p.Pid == grandchild).Select(p => ((int)p.Where, p.ParentPid)).Single());
        Assert.Contains("\\_ sleep 300", lab.Exec(1, Om.Path, "ps", "--tree").Succeeded().Stdout, StringComparison.Ordinal);

        // Moved from the job's home (node 3 moves it as its own), then killed from there.
        var moved = lab.Exec(1, Om.Path, "migrate", $"{grandchild}", "1").Succeeded();
        Assert.Contains($"process {grandchild} moved from node 3 to node 1", moved.Stderr + moved.Stdout, StringComparison.Ordinal);
        Poll.Until(() => ForkedAway(lab).Any(p => p.Pid == grandchild && p.Where == 1), TimeSpan.FromSeconds(20), "home to list the grandchild on node 1");
        Assert.Contains($"signalled {grandchild}", lab.Exec(1, Om.Path, "kill", $"{grandchild}").Succeeded().Stdout, StringComparison.Ordinal);

        Assert.Equal(new ChildExit(0, 0), shell.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal([$"{child}", $"grandchild {grandchild}", "grandchild status 143", "status 4"], shell.Lines());
        Poll.Until(() => ForkedAway(lab).Count == 0, TimeSpan.FromSeconds(20), "home to drop them all");
        Poll.Until(() => !Enumerable.Range(1, 3).Any(n => lab.Processes(n).Processes.Any(p => p.State == "guest")), TimeSpan.FromSeconds(20), "no guest left anywhere");
    }

    private static bool IsPids(string line) => line.Split(' ') is [var a, var b] && int.TryParse(a, out _) && int.TryParse(b, out _);

    /// <summary>The same jobs run straight here, without openMosix: the lines they print.</summary>
    private static IReadOnlyList<string> Plain(string jobs)
    {
        var output = Path.Combine(Path.GetTempPath(), $"om-rfork-plain-{Guid.NewGuid():N}");
        try
        {
            using var run = ChildProcess.StartToFile("/bin/bash", ["-c", jobs], output);
            Assert.Equal(new ChildExit(0, 0), run.WaitForExit(TimeSpan.FromSeconds(60)));
            return File.ReadAllLines(output);
        }
        finally
        {
            File.Delete(output);
        }
    }

    public void Dispose()
    {
        foreach (var name in new[] { "moved", "end", "done", "fork" }) File.Delete(Marker(name));
    }
}
