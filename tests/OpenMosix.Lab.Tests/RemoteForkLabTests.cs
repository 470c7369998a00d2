using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
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

    public void Dispose()
    {
        foreach (var name in new[] { "moved", "end", "done" }) File.Delete(Marker(name));
    }
}
