using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Fork-and-forget, as openMosix users knew it: what a managed process forks is managed from birth, spreads over the
/// cluster by itself, and its parent waits for it as if nothing had moved.
/// </summary>
[Collection(ForkLab.Collection)]
public sealed class ForkAndForgetLabTests(ForkLab fixture)
{
    private TestLab Lab => fixture.Lab;
    private static string Spinner => TestPrograms.Locate("spinner");

    private IReadOnlyList<ProcessRow> ChildrenOf(int parent) => Lab.Processes(1).Processes.Where(p => p.ParentPid == parent).ToList();

    [Fact]
    public void Background_jobs_of_a_managed_shell_are_managed_from_birth_spread_and_waited_for_with_their_statuses()
    {
        // Once they have spread (and each has said "spinner start", printed once its SIGUSR1 handler is set) the shell
        // ends them: the first five with SIGUSR1, which their spinner (`usr1`) takes to end with status 0, the last
        // with SIGTERM, whose status must be the signal's, as at home. A fixed amount of work (4 s of CPU each on
        // half-CPU nodes) was waited out after the spread (docs/testing.md).
        var script = $$"""
            for i in 1 2 3 4 5 6; do {{Spinner}} usr1 & pids+=($!); done
            while [ ! -e {{Marker("spread")}} ]; do sleep 0.1; done
            kill -USR1 "${pids[@]:0:5}"
            kill -TERM ${pids[5]}
            for p in "${pids[@]}"; do wait $p; echo "status $?"; done
            """;
        using var shell = Lab.Managed(1, "bash", "-c", script);
        try
        {
            Poll.Until(() => ChildrenOf(shell.Pid).Count(p => p.Command.Contains("spinner", StringComparison.Ordinal)) == 6,
                TimeSpan.FromSeconds(20), "the six jobs to be managed as children of the shell");
            Poll.Until(() => ChildrenOf(shell.Pid).Select(p => p.Where).Distinct().Count() >= 3, TimeSpan.FromSeconds(30),
                "the jobs to run on at least three nodes");
            Poll.Until(() => shell.Lines().Count(l => l == "spinner start") == 6, TimeSpan.FromSeconds(30), "every job's \"spinner start\"");
        }
        finally
        {
            // Also after a failure: the shell ends its jobs, none spins on in the lab the next tests share.
            File.WriteAllText(Marker("spread"), "");
        }
        Assert.Equal(0, shell.Process.WaitForExit(TimeSpan.FromSeconds(120)).Code);
        var lines = shell.Lines();
        Assert.Equal([.. Enumerable.Repeat("status 0", 5), "status 143"], lines.Where(l => l.StartsWith("status", StringComparison.Ordinal)));
        // Every job's lines reached the shell's stdout from wherever it ran; the one ended by SIGTERM printed no "done".
        Assert.Equal([.. Enumerable.Repeat("spinner done", 5), .. Enumerable.Repeat("spinner start", 6)],
            lines.Where(l => !l.StartsWith("status", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Lab.WaitForDaemonLog(1, "starts on node");
        Poll.Until(() => ChildrenOf(shell.Pid).Count == 0, TimeSpan.FromSeconds(10), "no deputy left behind");
    }

    [Fact]
    public void Children_inherit_their_parents_lock_and_are_not_placed_away()
    {
        using var shell = Lab.Managed(1, "--lock", "--cpujob", "bash", "-c", $"{Spinner} 30 > /dev/null & {Spinner} 30 > /dev/null & wait");
        try
        {
            Poll.Until(() => ChildrenOf(shell.Pid).Count == 2, TimeSpan.FromSeconds(20), "both children to be managed");
            Assert.All(ChildrenOf(shell.Pid), child =>
            {
                Assert.True(child.Locked, $"child {child.Pid} is not locked");
                Assert.Equal(1, child.Where);
            });
        }
        finally
        {
            Lab.Exec(1, "pkill", "-KILL", "-P", $"{shell.Pid}");
        }
    }

    [Fact]
    public void Killing_the_parent_while_its_children_run_remotely_leaves_no_deputy_behind()
    {
        using var shell = Lab.Managed(1, "bash", "-c", $"for i in 1 2 3 4; do {Spinner} 3 > /dev/null & done; wait");
        Poll.Until(() => ChildrenOf(shell.Pid).Count(p => p.State == "remote") >= 2, TimeSpan.FromSeconds(30), "children to run remotely");
        var children = ChildrenOf(shell.Pid).Select(p => p.Pid).ToList();
        var copies = new[] { 2, 3, 4 }.SelectMany(n => Lab.Processes(n).Processes.Where(p => p.State == "guest" && children.Contains(p.RemotePid))
            .Select(p => (Node: n, p.Pid))).ToList();
        Assert.NotEmpty(copies);
        // Watched by pidfds, each checked to be the process listed once it is open (one that ended before is gone
        // already): once reaped, a PID may name another process at once.
        using var childFds = new PidFds(children.Select(pid => Watched.ProcessIfThere(pid, p => Watched.ParentOf(p) == shell.Pid)));
        using var copyFds = new PidFds(copies.Select(copy => Watched.ProcessIfThere(copy.Pid,
            p => Lab.Processes(copy.Node).Processes.Any(row => row.Pid == p && row.State == "guest"))));
        shell.Process.Kill();
        shell.Process.WaitForExit(TimeSpan.FromSeconds(10));
        // Orphaned, the deputies go on relaying until their copies end; then nothing of them may stay.
        Poll.Until(() => !Lab.Processes(1).Processes.Any(p => children.Contains(p.Pid)), TimeSpan.FromSeconds(60),
            "the orphaned children to finish and be forgotten");
        Poll.Until(() => childFds.NoneLeft, TimeSpan.FromSeconds(10), "no zombie left");
        Poll.Until(() => copyFds.NoneLeft, TimeSpan.FromSeconds(10), "no copy left on the other nodes, zombie or not");
        foreach (var node in new[] { 2, 3, 4 })
            Assert.DoesNotContain(Lab.Processes(node).Processes, p => p.State == "guest");
    }

    [Fact]
    public void A_process_running_away_from_home_forks_managed_children_that_are_placed_and_waited_for()
    {
        // Builtins only at first (no fork), so that the shell is on node 2 before its children are born. The children
        // spin until the test has seen them placed and sends each SIGUSR1 (8 s of CPU each were waited out before).
        var script = $$"""
            x=0; while [ $x -lt 100000 ]; do x=$((x+1)); done
            for i in 1 2 3 4; do {{Spinner}} usr1 & pids+=($!); done
            for p in "${pids[@]}"; do wait $p; echo "status $?"; done
            """;
        using var shell = Lab.Managed(1, "--on", "2", "bash", "-c", script);
        Poll.Until(() => Lab.Processes(1).Processes.Any(p => p.Pid == shell.Pid && p.State == "remote" && p.Where == 2),
            TimeSpan.FromSeconds(20), "the shell to run on node 2");
        var guest = Lab.Processes(2).Processes.Single(p => p.State == "guest" && p.RemotePid == shell.Pid).Pid;
        IReadOnlyList<ProcessRow> Children() => [.. Lab.Processes(2).Processes.Where(p => p.ParentPid == guest)];
        try
        {
            Poll.Until(() => Children().Count == 4, TimeSpan.FromSeconds(20), "node 2 to manage the four children born there");
            Poll.Until(() => Children().Any(c => c.State == "remote" && c.Where != 2), TimeSpan.FromSeconds(30),
                "node 2 to place some of them on other nodes");
            // Each ended at its home, node 2, by its PID there, wherever it runs now (forwarded to a copy as any
            // signal), once it has said "spinner start" (printed once its SIGUSR1 handler is set).
            Poll.Until(() => shell.Lines().Count(l => l == "spinner start") == 4, TimeSpan.FromSeconds(30), "every child's \"spinner start\"");
            var children = Descendants.Named(guest, "spinner");
            Assert.Equal(4, children.Count);
            foreach (var child in children) Signals.Kill(child, Signals.SIGUSR1);
            Assert.Equal(0, shell.Process.WaitForExit(TimeSpan.FromSeconds(120)).Code);
            var lines = shell.Lines();
            Assert.Equal(Enumerable.Repeat("status 0", 4), lines.Where(l => l.StartsWith("status", StringComparison.Ordinal)));
            Assert.Equal([.. Enumerable.Repeat("spinner done", 4), .. Enumerable.Repeat("spinner start", 4)],
                lines.Where(l => !l.StartsWith("status", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        }
        finally
        {
            // After a failure, no child may spin on in the lab the next tests share (a deputy's end ends its copy).
            if (!shell.Process.HasExited) Descendants.Kill(guest);
        }
    }

    private readonly string _markers = Path.Combine(Path.GetTempPath(), $"om-fork-{Guid.NewGuid():N}");

    private string Marker(string name) => $"{_markers}-{name}";
}
