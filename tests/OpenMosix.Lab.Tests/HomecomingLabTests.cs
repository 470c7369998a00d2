using System.Globalization;
using System.Text.RegularExpressions;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>Issue #17 part 4: nothing is lost coming home, and the trip home is pre-copied like the trip out.</summary>
[Collection(MigrationLab.ThreadsCollection)]
public sealed class HomecomingLabTests(MigrationLab fixture)
{
    private readonly TestLab _lab = fixture.Lab;

    [Fact]
    public void Input_relayed_to_a_copy_and_not_read_yet_reaches_it_exactly_once_over_trips_home_and_out_again()
    {
        var input = new byte[4 << 20];
        new Random(17).NextBytes(input);
        var (stdinRead, stdinWrite) = Descriptors.CreatePipe();
        using var run = _lab.Managed(1, [TestPrograms.Locate("slowreader"), "256", "2"], stdinRead);
        stdinRead.Dispose();
        // The whole stream at once: it waits in the pipes (home's, the link, the copy's) while the reader takes its time.
        var feeder = new Thread(() =>
        {
            using var feed = new FileStream(stdinWrite, FileAccess.Write);
            feed.Write(input);
        }) { IsBackground = true };
        feeder.Start();
        run.WaitForLines(2);
        foreach (var target in new[] { "2", "home", "2", "home", "2" })
        {
            _lab.Migrate(1, run.Pid, target);
            // Mid-stream each time: it reads on between moves, and has not finished.
            var seen = run.Lines().Count;
            run.WaitForLines(seen + 1);
            Assert.DoesNotContain(run.Lines(), l => l.StartsWith("slowreader done", StringComparison.Ordinal));
        }
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        // The case this is about happened: input was still unread in the copy's pipe when it came home.
        Assert.Contains("of input its copy had not read", File.ReadAllText(_lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
        Assert.Equal($"slowreader done bytes={input.Length} hash={Fnv1a(input):x16}", run.Lines()[^1]);
    }

    [Fact]
    public void A_process_that_keeps_writing_its_memory_comes_home_pre_copied_frozen_for_a_fraction_of_the_trip_and_intact()
    {
        string[] arguments = ["200", "600", "10"];
        var reference = CommandRun.Run(TestPrograms.Locate("churner"), arguments).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var run = _lab.Managed(1, TestPrograms.Locate("churner"), arguments);
        run.WaitForLines(5);
        _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "2", "--no-precopy").Succeeded();
        run.WaitForLines(run.Lines().Count + 10);

        var frozenHome = _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "home", "--no-precopy").Succeeded().Stderr;
        Assert.DoesNotContain("pre-copy round", frozenHome, StringComparison.Ordinal);
        Assert.True(Trip(frozenHome).FrozenMiB >= 200, $"all of it travels frozen without pre-copy: {frozenHome}");
        run.WaitForLines(run.Lines().Count + 10);
        _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "2", "--no-precopy").Succeeded();
        run.WaitForLines(run.Lines().Count + 10);

        var precopied = _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "home").Succeeded().Stderr;
        var trip = Trip(precopied);
        Assert.True(trip.PrecopiedMiB >= 200, $"its memory went home while it ran: {precopied}");
        Assert.True(trip.FrozenMiB < 50, $"only what it changed since travels frozen: {precopied}");
        Assert.True(trip.FrozenMs * 3 < trip.TotalMs, $"frozen for a fraction of the trip: {precopied}");
        Assert.Equal("home", _lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).State);
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(90)));
        Assert.Equal(reference, run.Lines());
    }

    private sealed record TripFigures(double FrozenMiB, long FrozenMs, double PrecopiedMiB, long TotalMs);

    /// <summary>The figures om migrate prints for a move: what travelled frozen and for how long, what went before.</summary>
    private static TripFigures Trip(string stderr)
    {
        var match = Regex.Match(stderr, @"\((\d+\.\d) MiB, frozen (\d+) ms(?:, after \d+ pre-copy rounds? of (\d+\.\d) MiB while it ran, (\d+) ms in all)?\)");
        Assert.True(match.Success, stderr);
        var frozenMs = long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        return new(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), frozenMs,
            match.Groups[3].Success ? double.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture) : 0,
            match.Groups[4].Success ? long.Parse(match.Groups[4].Value, CultureInfo.InvariantCulture) : frozenMs);
    }

    internal static ulong Fnv1a(byte[] bytes)
    {
        var hash = 0xcbf29ce484222325UL;
        foreach (var b in bytes) hash = (hash ^ b) * 0x100000001b3UL;
        return hash;
    }
}
