using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>Issue #14 end to end: multithreaded programs started with `om run` in node 1 and moved while all their
/// threads run; every thread must keep working wherever the process is, and its deputy must end as it does.</summary>
[Collection(MigrationLab.ThreadsCollection)]
public sealed class ThreadMigrationLabTests(MigrationLab fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    // The thr_ programs' rounds wait on each other, one thread at SCHED_IDLE: on a machine loaded by others (load 50)
    // that thread may wait seconds for a CPU each round. Bounds for what waits on their rounds.
    private static readonly TimeSpan RoundsPatience = TimeSpan.FromSeconds(180);
    /// <summary>Rounds a thr_ program runs after its hold (HOLD_TAIL in tests/Programs/thr_common.h).</summary>
    private const int HoldTail = 5;
    private readonly TestLab _lab = fixture.Lab;

    /// <param name="heldAfter">the round after which the program holds (HOLD in tests/Programs).</param>
    /// <param name="movedAfter">the line after which it is moved. thr_robust's threads come and go with its rounds
    /// (its main thread is alone at round R/3 and from round 2R/3 on, and a loaded test once moved it there: no thread
    /// to move, no "threads made" for the test to read, and a 180 s wait): it is moved once it holds, in the round
    /// before its dier dies, its dier holding the robust mutex and its recoverer in a timed lock of it; the owner's
    /// death comes after its trip home.</param>
    [Theory]
    [InlineData("thr_blocking", "100 50 0", 100 - HoldTail, 5)]
    [InlineData("thr_state", "100 50", 100 - HoldTail, 5)]
    [InlineData("thr_robust", "60 50", 2 * 60 / 3 - 1, 2 * 60 / 3 - 1)]
    public void A_threaded_program_moved_away_and_back_home_prints_exactly_what_it_would_have(string program, string arguments, int heldAfter, int movedAfter)
    {
        var path = TestPrograms.Locate(program);
        string[] words = arguments.Split(' ');
        // The program holds before its last rounds until the file `go` exists, which the test creates once its moves
        // are done: it cannot end away before it is brought home, however slow the machine (it once ended on node 2
        // under load 50 while the test still waited for its lines there). Its reference run names a file that exists.
        var go = Path.Combine(_lab.Layout.NodeDirectory(1), $"go-{Guid.NewGuid():N}");
        var gone = go + "-reference";
        File.WriteAllText(gone, "");
        var reference = Lines(CommandRun.Run(path, [.. words, gone], timeout: RoundsPatience).Stdout);
        // Its omd logs are kept if it fails: `om where` once said "not managed" right after the move (a late report
        // of another process's exit under the same PID, ProcessRegistry.FindExited).
        // The process and its threads are described if a wait times out (a run at load once stopped printing after
        // coming home, every omd log silent about it).
        var watched = new List<int>();
        _lab.ExplainingFailure(() =>
        {
            using var run = _lab.Managed(1, [path, .. words, go], null);
            watched.Add(run.Pid);
            MoveAwayAndBack(run, "2", heldAfter, movedAfter);
            File.WriteAllText(go, "");
            Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(RoundsPatience));
            Assert.Equal(reference, run.Lines());
        }, watched);
    }

    [Fact]
    public void Node_with_a_worker_thread_moved_away_and_back_home_prints_exactly_what_it_would_have()
    {
        Assert.SkipUnless(File.Exists("/usr/bin/node"), "/usr/bin/node is not installed here");
        var script = Path.Combine(_lab.Layout.NodeDirectory(1), $"rounds-{Guid.NewGuid():N}.js");
        File.WriteAllText(script, ThreadedScripts.Node);
        string[] command = ["/usr/bin/node", script, "80", "40"];
        var reference = Lines(CommandRun.Run(command[0], command[1..]).Stdout);
        using var run = _lab.Managed(1, command, null);
        MoveAwayAndBack(run, "2");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(Patience));
        Assert.Equal(reference, run.Lines());
    }

    /// <summary>A JVM (19 threads or so, its perf-data file mapped shared and writable) moved away and back.</summary>
    [Fact]
    public void A_java_program_moved_away_and_back_home_prints_exactly_what_it_would_have()
    {
        Assert.SkipUnless(File.Exists("/usr/bin/java") && File.Exists("/usr/bin/javac"), "java and javac are not installed here");
        var dir = Path.Combine(_lab.Layout.NodeDirectory(1), $"java-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var source = Path.Combine(dir, "Rounds.java");
        File.WriteAllText(source, ThreadedScripts.Java);
        Assert.Equal(0, CommandRun.Run("/usr/bin/javac", ["-d", dir, source]).ExitCode);
        string[] command = ["/usr/bin/java", "-cp", dir, "Rounds", "80", "40"];
        var reference = Lines(CommandRun.Run(command[0], command[1..]).Stdout);
        using var run = _lab.Managed(1, command, null);
        MoveAwayAndBack(run, "2");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(Patience));
        Assert.Equal(reference, run.Lines());
    }

    /// <summary>Killed from home (the deputy's PID passes the signal on) or on the node where it runs: either way the
    /// parent at home sees the process die of that signal, and no copy is left behind.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_threaded_process_killed_by_a_signal_while_away_has_its_deputy_die_of_that_signal(bool atHome)
    {
        using var run = _lab.Managed(1, TestPrograms.Locate("thr_blocking"), "400", "50", "0");
        run.WaitForLines(3);
        _lab.Migrate(1, run.Pid, "2");
        run.WaitForLines(run.Lines().Count + 3);
        var guest = _lab.Processes(2).Processes.Single(p => p.RemotePid == run.Pid);
        Assert.True(Threads(guest.Pid) >= 10, $"the guest runs {Threads(guest.Pid)} threads");
        var signal = atHome ? Signals.SIGTERM : Signals.SIGKILL;
        Signals.Kill(atHome ? run.Pid : guest.Pid, signal);
        Assert.Equal(new ChildExit(0, signal), run.Process.WaitForExit(TimeSpan.FromSeconds(20)));
        Poll.Until(() => _lab.Processes(2).Processes.All(p => p.RemotePid != run.Pid), TimeSpan.FromSeconds(10), "the copy to be gone");
    }

    /// <summary>Moves the process to <paramref name="away"/> once it has run a while, lets it run there, and brings it
    /// home, checking that it really ran away with all its threads. A program that holds after line
    /// <paramref name="heldAfter"/> is not waited for beyond it.</summary>
    private void MoveAwayAndBack(ManagedRun run, string away, int heldAfter = int.MaxValue, int movedAfter = 5)
    {
        run.WaitForLines(movedAfter, RoundsPatience);
        var threadsAtHome = Threads(run.Pid);
        Assert.True(threadsAtHome > 1, $"{run.Pid} runs {threadsAtHome} thread before the move");
        _lab.Migrate(1, run.Pid, away);
        Assert.Equal(away, _lab.Exec(1, Om.Path, "where", $"{run.Pid}").Succeeded().Stdout.Trim());
        var node = int.Parse(away, System.Globalization.CultureInfo.InvariantCulture);
        var guest = _lab.Processes(node).Processes.Single(p => p.RemotePid == run.Pid);
        // Every other thread the original had when it became the deputy is made on the guest, as both omds log (the
        // guest's own count, once read here, changes with the program's rounds: thr_robust ends its helpers by round
        // 2R/3, under load before this test could count them).
        var ended = LoggedNumber(1, $@"Process {run.Pid} is a deputy now: .*?its (\d+) other threads ended");
        var made = LoggedNumber(node, $@"Process {guest.Pid} \(was {run.Pid}\): (\d+) threads made");
        Assert.True(ended > 0, $"{run.Pid} became a deputy with no other thread");
        Assert.Equal(ended, made);
        run.WaitForLines(Math.Min(run.Lines().Count + 10, heldAfter), RoundsPatience);
        _lab.Migrate(1, run.Pid, "home");
        run.WaitForLines(Math.Min(run.Lines().Count + 5, heldAfter), RoundsPatience);
    }

    /// <summary>The number a node's omd logged in the first line matching <paramref name="pattern"/> (one group), once
    /// it has (lines reach the file from a queue).</summary>
    private int LoggedNumber(int node, string pattern)
    {
        var path = _lab.Layout.NodeDaemonLog(node);
        System.Text.RegularExpressions.Match? found = null;
        Poll.Until(() =>
        {
            if (!File.Exists(path)) return false;
            using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            found = System.Text.RegularExpressions.Regex.Match(reader.ReadToEnd(), pattern);
            return found.Success;
        }, RoundsPatience, $"node {node}'s omd to log /{pattern}/");
        return int.Parse(found!.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static int Threads(int pid) => OpenMosix.Linux.Proc.ProcFs.ReadStatus(pid).Threads;

    private static List<string> Lines(string text) => [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
}
