using System.Globalization;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>A 2-node lab in auto mode (omd's default) with one pre-copy round per move (`--precopy-rounds 1`): a
/// process still writing after it is post-copied deterministically, whatever the machine's load.</summary>
public sealed class PostcopyAfterRoundsLab : IDisposable
{
    internal TestLab Lab { get; } = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance", "--precopy-rounds", "1");

    public void Dispose() => Lab.Dispose();
}

/// <summary>
/// Issue #20: post-copy chosen after pre-copy rounds that do not converge, a fork while the pages are still at home,
/// and a trip home asked for while the copy still fetches them. rewriter rewrites one word of every page of its hot
/// region pass after pass and prints checksums of all of its memory.
/// </summary>
public sealed class PostcopyAfterRoundsLabTests(PostcopyAfterRoundsLab fixture) : IClassFixture<PostcopyAfterRoundsLab>
{
    private readonly TestLab _lab = fixture.Lab;

    [Fact]
    public void A_process_quiet_but_for_a_hot_region_sends_its_quiet_memory_in_the_round_and_the_hot_region_by_post_copy()
    {
        // 256 MB, of which the first 32 are rewritten pass after pass: the probe sees a hot region that stops growing.
        string[] arguments = ["256", "300", "5", "3", "32"];
        var reference = PostcopyLabTests.Uninterrupted(arguments);
        using var run = _lab.Managed(1, TestPrograms.Locate("rewriter"), arguments);
        run.WaitForLines(2);

        var moved = PostcopyLabTests.Moved(_lab, run.Pid, "2", "--postcopy", "auto");

        Assert.Equal(1, moved.PrecopyRounds);
        Assert.True(moved.PrecopyBytes >= 200L << 20, $"only {moved.PrecopyBytes >> 20} MiB went in the round");
        Assert.True(moved.Postcopy, "the hot region the round could not catch up with was not post-copied");
        Assert.True(moved.ImageBytes < 8 << 20, $"{moved.ImageBytes >> 20} MiB travelled frozen: the hot region did not stay behind");
        _lab.WaitForDaemonLog(1, $"Process {run.Pid}: the pre-copy did not converge (1 rounds", TimeSpan.FromSeconds(5));
        _lab.WaitForDaemonLog(2, "of them changed since and fetched by post-copy", TimeSpan.FromSeconds(5));
        _lab.WaitForDaemonLog(1, $"Process {run.Pid}: post-copy to node 2 done", TimeSpan.FromSeconds(60));
        Assert.Equal(new ChildExit(3, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(180)));
        Assert.Equal(reference, run.Lines());
    }

    [Fact]
    public void A_child_forked_while_the_pages_are_still_at_home_finds_every_page_of_its_parent()
    {
        // 1 GB fetched for seconds; each pass rewrites only its first MB, a pass a second (the first checksum of all of
        // it comes after the eighth). The copy forks once the file exists, which it does once the copy runs: its
        // child's checksum of the other 1023 MB needs pages still at home.
        using var dir = new TempDirectory();
        var trigger = dir.File("fork");
        string[] arguments = ["1024", "16", "1000", "0", "1", trigger];
        File.WriteAllText(trigger, "");
        var reference = PostcopyLabTests.Uninterrupted(arguments);
        File.Delete(trigger);
        var child = Assert.Single(reference, line => line.StartsWith("child ", StringComparison.Ordinal));
        using var run = _lab.Managed(1, TestPrograms.Locate("rewriter"), arguments);
        run.WaitForLines(1, TimeSpan.FromSeconds(120));

        var moved = PostcopyLabTests.Moved(_lab, run.Pid, "2", "--postcopy", "always");
        Assert.True(moved.Postcopy);
        File.WriteAllText(trigger, "");

        // The copy's node served the child a post-copy of its own: the fork came before every page was there.
        _lab.WaitForDaemonLog(2, "Post-copy: a fork's child is served too", TimeSpan.FromSeconds(60));
        var missing = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(_lab.Layout.NodeDaemonLog(2)),
            @"a fork's child is served too \(([0-9.]+) MiB still missing\)");
        Assert.True(double.Parse(missing.Groups[1].Value, CultureInfo.InvariantCulture) >= 100,
            $"the fork came when only {missing.Groups[1].Value} MiB were still at home");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(180)));
        var lines = run.Lines();
        Assert.Contains(child, lines);
        // The passes print what an unmoved run prints, the child's line wherever the fork came.
        Assert.Equal(reference.Where(l => l != child), lines.Where(l => l != child));
    }

    [Fact]
    public void A_trip_home_asked_for_while_the_copy_still_fetches_its_pages_waits_until_it_holds_them_all()
    {
        string[] arguments = ["1024", "30", "100"];
        var reference = PostcopyLabTests.Uninterrupted(arguments);
        using var run = _lab.Managed(1, TestPrograms.Locate("rewriter"), arguments);
        run.WaitForLines(1, TimeSpan.FromSeconds(120));
        var moved = PostcopyLabTests.Moved(_lab, run.Pid, "2", "--postcopy", "always");
        Assert.True(moved.Postcopy);
        var log = _lab.Layout.NodeDaemonLog(1);
        var done = $"Process {run.Pid}: post-copy to node 2 done";
        Assert.DoesNotContain(done, File.ReadAllText(log), StringComparison.Ordinal);

        var home = _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "home", "--no-precopy").Succeeded();

        Assert.Contains("to node 1", home.Stderr, StringComparison.Ordinal);
        var text = File.ReadAllText(log);
        var waited = text.IndexOf($"process {run.Pid}: its copy on node 2 still fetches its memory from here (post-copy)", StringComparison.Ordinal);
        var held = text.IndexOf(done, StringComparison.Ordinal);
        var back = text.IndexOf($"process {run.Pid} came home from node 2", StringComparison.Ordinal);
        Assert.True(waited >= 0, "the trip home did not wait for the post-copy");
        Assert.True(held > waited && back > held, "the process came home before its copy held every page");
        Assert.Equal("1", _lab.Exec(1, Om.Path, "where", $"{run.Pid}").Succeeded().Stdout.Trim());
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(180)));
        Assert.Equal(reference, run.Lines());
    }
}
