using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>Two nodes of half a CPU each, no balancer (only the tests move anything), moves held to 16 MiB/s so that a
/// member with a sizeable image keeps its tree's move open for seconds.</summary>
public sealed class TreeMoveLab : IDisposable
{
    internal TestLab Lab { get; } = TestLab.WithDaemons(2, "--cpus", "0.5,0.5", "--timeout", "15", "--no-balance", "--bandwidth-limit", "16");

    public void Dispose() => Lab.Dispose();
}

/// <summary>
/// `om migrate --tree`: a shell and its jobs move to another node together, each keeping its PID, its parent and its
/// deputy at home, so the shell's `wait`s, a kill from home and the exit statuses are those of an unmoved run; they
/// come home together; and the tree moves all or nothing: a member that cannot move, or one that ends while the
/// others are on their way, leaves every process running at home. The jobs are CPU loops that end when a marker file
/// appears, and fork nothing (a fork during the move would, rightly, keep the tree home).
/// </summary>
public sealed class TreeMoveLabTests(TreeMoveLab fixture) : IClassFixture<TreeMoveLab>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private const string Jobs = """
        m=$1
        job() { while [ ! -e "$m" ]; do :; done; exit $1; }
        job 3 & a=$!; job 5 & b=$!
        echo "jobs $a $b"
        wait $a; echo "a $?"; wait $b; echo "b $?"
        """;

    private TestLab Lab => fixture.Lab;

    private ProcessRow? Row(int pid) => Lab.Processes(1).Processes.FirstOrDefault(p => p.Pid == pid);

    /// <summary>Starts the shell and waits until it and its two jobs are managed rows at home; returns the jobs' PIDs.</summary>
    private (ManagedRun Shell, int A, int B) StartJobs(TempDirectory work, string script = Jobs, params string[] more)
    {
        var shell = Lab.Managed(1, ["bash", "-c", script, "jobs", work.File("marker"), .. more], null);
        shell.WaitForLines(1, Bound);
        var pids = shell.Lines()[0].Split(' ').Skip(1).Select(int.Parse).ToArray();
        Poll.Until(() => pids.All(p => Row(p) is { State: "home" } row && row.ParentPid == shell.Pid), Bound, "both jobs to be managed at home");
        return (shell, pids[0], pids[1]);
    }

    private OmResult MoveTree(int pid, string target) => Lab.Exec(1, Om.Path, "migrate", "--tree", $"{pid}", target, "--json");

    private void AllAt(string state, int where, params int[] pids) =>
        Assert.All(pids, pid => Assert.True(Row(pid) is { } row && row.State == state && row.Where == where,
            $"process {pid}: {Row(pid)?.State ?? "no row"} on {Row(pid)?.Where}, expected {state} on {where}"));

    [Fact]
    public void A_shell_and_its_jobs_move_as_a_tree_keep_their_home_pids_and_parents_and_the_shell_gets_their_real_statuses()
    {
        using var work = new TempDirectory("om-treemove");
        var (shell, a, b) = StartJobs(work);
        using var _ = shell;

        var moved = JsonSerializer.Deserialize(MoveTree(shell.Pid, "2").Succeeded().Stdout, AdminJsonContext.Default.TreeMigrationResult)!;
        Assert.Equal(new[] { shell.Pid, a, b }.Order(), moved.Moved.Select(m => m.Pid).Order());
        Assert.Equal(2, moved.To);
        AllAt("remote", 2, shell.Pid, a, b);
        Assert.Equal(shell.Pid, Row(a)!.ParentPid);
        Assert.Equal(shell.Pid, Row(b)!.ParentPid);

        // A kill at home reaches job b on node 2 through its deputy; the shell's wait there sees it as at home.
        Lab.Exec(1, "kill", "-TERM", $"{b}").Succeeded();
        // Its deputy ends with the copy's death: a zombie here until the shell, waiting for job a, collects it.
        Poll.Until(() => Linux.Proc.ProcFs.HasEnded(b), Bound, "job b's deputy to end with its copy");
        File.WriteAllText(work.File("marker"), "");
        Assert.Equal(0, shell.Process.WaitForExit(Bound).Code);
        Assert.Equal([$"jobs {a} {b}", "a 3", "b 143"], shell.Lines());
        Poll.Until(() => Row(shell.Pid) is null && Row(a) is null && Row(b) is null
                         && Lab.Processes(2).Processes.All(p => p.State != "guest"), Bound, "no row at home and no guest left on node 2");
    }

    [Fact]
    public void Make_j2_with_its_two_recipes_moves_as_a_tree_and_finishes_as_a_plain_make_does()
    {
        using var work = new TempDirectory("om-treemake");
        // Two recipes that spin (shell builtins only: nothing forks during the move) until the marker appears.
        File.WriteAllText(work.File("Makefile"), """
            all: one two
            	@echo done
            one two:
            	@while [ ! -e marker ]; do :; done; echo $@ > $@.out

            """);
        using var make = Lab.Managed(1, "make", "-s", "-j2", "-C", work.Path);
        Poll.Until(() => Lab.Processes(1).Processes.Count(p => p.ParentPid == make.Pid && p.State == "home") == 2, Bound, "make to start both recipes");
        var recipes = Lab.Processes(1).Processes.Where(p => p.ParentPid == make.Pid).Select(p => p.Pid).ToArray();

        var moved = JsonSerializer.Deserialize(MoveTree(make.Pid, "2").Succeeded().Stdout, AdminJsonContext.Default.TreeMigrationResult)!;
        Assert.Equal(recipes.Append(make.Pid).Order(), moved.Moved.Select(m => m.Pid).Order());
        AllAt("remote", 2, [.. recipes.Append(make.Pid)]);
        File.WriteAllText(work.File("marker"), "");
        Assert.Equal(0, make.Process.WaitForExit(Bound).Code);
        Assert.Equal(["done"], make.Lines());
        Assert.Equal(["one\n", "two\n"], new[] { "one.out", "two.out" }.Select(f => File.ReadAllText(work.File(f))));
    }

    [Fact]
    public void A_tree_moved_away_comes_home_as_a_tree_and_its_statuses_are_those_of_an_unmoved_run()
    {
        using var work = new TempDirectory("om-treehome");
        var (shell, a, b) = StartJobs(work);
        using var _ = shell;
        MoveTree(shell.Pid, "2").Succeeded();
        AllAt("remote", 2, shell.Pid, a, b);

        var home = JsonSerializer.Deserialize(MoveTree(shell.Pid, "home").Succeeded().Stdout, AdminJsonContext.Default.TreeMigrationResult)!;
        Assert.Equal(new[] { shell.Pid, a, b }.Order(), home.Moved.Select(m => m.Pid).Order());
        AllAt("home", 1, shell.Pid, a, b);
        File.WriteAllText(work.File("marker"), "");
        Assert.Equal(0, shell.Process.WaitForExit(Bound).Code);
        Assert.Equal([$"jobs {a} {b}", "a 3", "b 5"], shell.Lines());
    }

    [Fact]
    public void A_tree_with_a_member_that_cannot_move_stays_home_whole_and_runs_on()
    {
        using var work = new TempDirectory("om-treestay");
        File.WriteAllText(work.File("watched"), "");
        // tail -f watches its file with inotify, which cannot move.
        const string script = """
            m=$1
            job() { while [ ! -e "$m" ]; do :; done; exit $1; }
            job 3 & a=$!; tail -f "$2" & t=$!
            echo "jobs $a $t"
            wait $a; echo "a $?"; wait $t; echo "t $?"
            """;
        var (shell, a, tail) = StartJobs(work, script, work.File("watched"));
        using var _ = shell;

        var refused = MoveTree(shell.Pid, "2");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"the tree of process {shell.Pid} stays here: process {tail} cannot move", refused.Stderr, StringComparison.Ordinal);
        AllAt("home", 1, shell.Pid, a, tail);
        Lab.Exec(1, "kill", "-TERM", $"{tail}").Succeeded();
        File.WriteAllText(work.File("marker"), "");
        Assert.Equal(0, shell.Process.WaitForExit(Bound).Code);
        Assert.Equal([$"jobs {a} {tail}", "a 3", "t 143"], shell.Lines());
    }

    [Fact]
    public async Task A_member_that_ends_while_its_tree_is_on_the_way_leaves_every_process_running_at_home()
    {
        using var work = new TempDirectory("om-treeends");
        // Job b holds 192 MiB: at the lab's 16 MiB/s its pre-copy alone takes 12 s, and job a, whose own pre-copy is
        // done in a moment, waits for it, running, before any member is frozen: it ends in that window.
        const string script = """
            m=$1
            job() { while [ ! -e "$m" ]; do :; done; exit $1; }
            job 3 & a=$!; "$2" 192 100000 50 & b=$!
            echo "jobs $a $b"
            wait $a; echo "a $?"; wait $b; echo "b $?"
            """;
        var (shell, a, big) = StartJobs(work, script, TestPrograms.Locate("memticker"));
        using var _ = shell;
        Poll.Until(() => shell.Lines().Any(l => l.StartsWith("ready", StringComparison.Ordinal)), Bound, "the big job to fill its memory");

        var move = Task.Run(() => MoveTree(shell.Pid, "2"), TestContext.Current.CancellationToken);
        Poll.Until(() => Row(big) is { State: "migrating" }, Bound, "the big job's pre-copy to begin");
        File.WriteAllText(work.File("marker"), "");
        var refused = await move.WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"the tree of process {shell.Pid} stays here, every process running on: process {a}", refused.Stderr, StringComparison.Ordinal);

        // The shell and the big job run on at home: the job still ticks there, and the shell collected job a.
        AllAt("home", 1, shell.Pid, big);
        Poll.Until(() => shell.Lines().Contains("a 3"), Bound, "the shell to collect job a");
        var ticks = shell.Lines().Count;
        Poll.Until(() => shell.Lines().Count > ticks + 3, Bound, "the big job to tick on at home");
        Assert.DoesNotContain(Lab.Processes(2).Processes, p => p.State == "guest");
        Lab.Exec(1, "kill", "-TERM", $"{big}").Succeeded();
        Assert.Equal(0, shell.Process.WaitForExit(Bound).Code);
        Assert.Equal("b 143", shell.Lines()[^1]);
    }
}
