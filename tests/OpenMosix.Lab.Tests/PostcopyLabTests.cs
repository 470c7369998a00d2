using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>A 2-node lab whose omd post-copy every move out (migration.postcopy = "always", `om lab up --postcopy`).</summary>
public sealed class PostcopyLab : IDisposable
{
    internal TestLab Lab { get; } = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance", "--postcopy", "always");

    public void Dispose() => Lab.Dispose();
}

/// <summary>
/// Issue #20, post-copy in omd's moves: the copy runs on the target at once and fetches its memory from the frozen
/// original at home (faults first, the rest pushed), which becomes the deputy only once the copy holds every page.
/// rewriter writes one word of every page pass after pass, faster than a link copies it: pre-copy cannot converge.
/// </summary>
public sealed class PostcopyLabTests(PostcopyLab fixture) : IClassFixture<PostcopyLab>
{
    private readonly TestLab _lab = fixture.Lab;

    [Fact]
    public void A_process_rewriting_all_its_memory_moved_by_post_copy_prints_exactly_what_an_unmoved_run_prints()
    {
        string[] arguments = ["96", "400", "5", "7"];
        var reference = Uninterrupted(arguments);
        using var run = _lab.Managed(1, TestPrograms.Locate("rewriter"), arguments);
        run.WaitForLines(3);
        // No option: the lab's omd.toml says always.
        var moved = Moved(_lab, run.Pid, "2");
        Assert.True(moved.Postcopy, "the move was not a post-copy");
        Assert.Equal(0, moved.PrecopyRounds);
        Assert.True(moved.ImageBytes < 16 << 20, $"{moved.ImageBytes >> 20} MiB travelled frozen: the memory did not stay behind");
        _lab.WaitForDaemonLog(1, $"Process {run.Pid}: post-copy to node 2 done", TimeSpan.FromSeconds(60));
        _lab.WaitForDaemonLog(2, $"Process {run.Pid}: every page is here", TimeSpan.FromSeconds(5));
        Assert.Equal(new ChildExit(7, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Equal(reference, run.Lines());
    }

    [Fact]
    public void Auto_post_copies_a_process_that_writes_faster_than_the_link_and_pre_copies_one_that_does_not()
    {
        using var writer = _lab.Managed(1, TestPrograms.Locate("rewriter"), "96", "100000", "0");
        using var quiet = _lab.Managed(1, TestPrograms.Locate("memticker"), "96", "100000", "50");
        writer.WaitForLines(2);
        quiet.WaitForLines(2);

        var fast = Moved(_lab, writer.Pid, "2", "--postcopy", "auto");
        var slow = Moved(_lab, quiet.Pid, "2", "--postcopy", "auto");

        Assert.True(fast.Postcopy, "the rewriting process was not post-copied");
        Assert.False(slow.Postcopy, "the quiet process was post-copied");
        Assert.True(slow.PrecopyRounds > 0, "the quiet process was not pre-copied");
        _lab.WaitForDaemonLog(1, $"Process {writer.Pid} wrote", TimeSpan.FromSeconds(5));
        Signals.Kill(writer.Pid, Signals.SIGKILL);
        Signals.Kill(quiet.Pid, Signals.SIGKILL);
        Assert.Equal(new ChildExit(0, Signals.SIGKILL), writer.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(new ChildExit(0, Signals.SIGKILL), quiet.Process.WaitForExit(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void Auto_ends_the_probe_of_a_process_asleep_through_a_window_of_it_and_pre_copies_the_process()
    {
        // memticker ticks once and then sleeps for a minute: none of its threads wants a CPU while the probe watches.
        using var sleeper = _lab.Managed(1, TestPrograms.Locate("memticker"), "64", "2", "60000");
        sleeper.WaitForLines(2);

        var moved = Moved(_lab, sleeper.Pid, "2", "--postcopy", "auto");

        Assert.False(moved.Postcopy, "the sleeping process was post-copied");
        Assert.True(moved.PrecopyRounds > 0, "the sleeping process was not pre-copied");
        _lab.WaitForDaemonLog(1, $"Process {sleeper.Pid} slept through the first", TimeSpan.FromSeconds(5));
        Signals.Kill(sleeper.Pid, Signals.SIGKILL);
        Assert.Equal(new ChildExit(0, Signals.SIGKILL), sleeper.Process.WaitForExit(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void Never_for_one_move_freezes_the_rewriting_process_for_its_whole_memory_as_before()
    {
        string[] arguments = ["32", "300", "5"];
        var reference = Uninterrupted(arguments);
        using var run = _lab.Managed(1, TestPrograms.Locate("rewriter"), arguments);
        run.WaitForLines(2);
        var moved = Moved(_lab, run.Pid, "2", "--postcopy", "never");
        Assert.False(moved.Postcopy);
        Assert.True(moved.ImageBytes >= 16 << 20, $"only {moved.ImageBytes >> 20} MiB travelled frozen");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Equal(reference, run.Lines());
    }

    [Fact]
    public void An_unknown_post_copy_mode_is_refused_with_one_line_and_the_process_stays()
    {
        using var run = _lab.Managed(1, TestPrograms.Locate("sleeper"), "400", "50");
        run.WaitForLines(2);
        var refused = _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "2", "--postcopy", "sometimes");
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal("om: --postcopy sometimes: auto, never or always", refused.Stderr.TrimEnd());
        Assert.Equal("1", _lab.Exec(1, Om.Path, "where", $"{run.Pid}").Succeeded().Stdout.Trim());
        Signals.Kill(run.Pid, Signals.SIGKILL);
        run.Process.WaitForExit(TimeSpan.FromSeconds(30));
    }

    internal static MigrationResult Moved(TestLab lab, int pid, string target, params string[] options) =>
        JsonSerializer.Deserialize(lab.Exec(1, [Om.Path, "migrate", $"{pid}", target, "--json", .. options]).Succeeded().Stdout,
            AdminJsonContext.Default.MigrationResult)!;

    /// <summary>What rewriter prints when nothing happens to it (the pause between passes changes nothing printed).</summary>
    internal static List<string> Uninterrupted(string[] arguments) =>
        [.. CommandRun.Run(TestPrograms.Locate("rewriter"), [arguments[0], arguments[1], "0", .. arguments.Skip(3)]).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)];
}
