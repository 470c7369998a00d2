using Microsoft.Extensions.Logging;
using OpenMosix.Admin;
using OpenMosix.Balancing.Demand;
using OpenMosix.Daemon.Processes;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Processes;

/// <summary>The managed processes one omd leaves to the next (issue #17 part 1), with real processes of the test.</summary>
public sealed class ManagedStateFileTests : IDisposable
{
    private readonly TempDirectory _dir = new("om-managed");
    private readonly List<string> _log = [];

    public void Dispose() => _dir.Dispose();

    private ManagedStateFile File() => new(_dir.Path, new TestOutputLoggerFactory(_log.Add, LogLevel.Information).CreateLogger("processes"));

    [Fact]
    public void Home_processes_saved_at_stop_are_taken_back_by_the_next_omd_with_their_settings_and_the_file_goes()
    {
        using var home = ChildProcess.Start("/bin/sleep", ["41"]);
        using var away = ChildProcess.Start("/bin/sleep", ["42"]);
        var before = new ProcessRegistry(3);
        before.Register(home.Pid, 1000, DecayMode.Slow, JobHint.Cpu);
        before.Update(before.Find(home.Pid)!, p => (p.Locked, p.Request, p.Migrations) = (true, new RunRequest(0, [2, 4], true, false, true), 2));
        var moved = before.Register(away.Pid, 1000);
        before.Update(moved, p => (p.State, p.Where) = (ProcessState.Remote, 2));

        Assert.True(File().Save(before));
        var path = _dir.File(ManagedStateFile.FileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(path));

        var after = new ProcessRegistry(3);
        Assert.Equal(1, File().TakeBack(after));
        var taken = Assert.Single(after.RunningAtHome());
        Assert.Equal((home.Pid, 1000u, (ushort)3, true, DecayMode.Slow, JobHint.Cpu, 2), (taken.Pid, taken.Uid, taken.Where, taken.Locked, taken.Decay, taken.Hint, taken.Migrations));
        Assert.Equal(new[] { 2, 4 }, taken.Request!.Among);
        Assert.True(taken.Request.Fallback && taken.Request.Lock);
        Assert.False(System.IO.File.Exists(path), "the file was read once and must not be read again");
        Assert.Contains($"took back 1 managed processes from {path} (0 ended while omd was stopped)", _log.Single(l => l.Contains("took back", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_saved_process_whose_PID_now_names_another_process_or_nothing_is_not_taken_back()
    {
        using var reused = ChildProcess.Start("/bin/sleep", ["43"]);
        var ended = ChildProcess.Start("/bin/true", []);
        ended.WaitForExit(TimeSpan.FromSeconds(30));
        // The first omd saw another process under the PID: one that started at another time.
        var before = new ProcessRegistry(1, pid => pid == reused.Pid ? 1UL : 7UL);
        before.Register(reused.Pid, 0);
        before.Register(ended.Pid, 0);
        ended.Dispose();
        Assert.True(File().Save(before));

        var after = new ProcessRegistry(1);
        Assert.Equal(0, File().TakeBack(after));
        Assert.Empty(after.RunningAtHome());
        Assert.Contains(_log, l => l.Contains("took back 0 managed processes", StringComparison.Ordinal) && l.Contains("(2 ended while omd was stopped)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("{\"version\": 9, \"processes\": []}")]
    [InlineData("null")]
    public void A_corrupt_state_file_costs_one_warning_and_is_ignored(string text)
    {
        var path = _dir.File(ManagedStateFile.FileName);
        System.IO.File.WriteAllText(path, text);
        var registry = new ProcessRegistry(1);

        Assert.Equal(0, File().TakeBack(registry));

        Assert.Empty(registry.RunningAtHome());
        var warning = Assert.Single(_log);
        Assert.StartsWith($"Warning     processes: {path} is unreadable (", warning, StringComparison.Ordinal);
        Assert.EndsWith("): ignored, no process taken back", warning, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', warning);
        Assert.False(System.IO.File.Exists(path));
    }

    [Fact]
    public void Without_a_state_file_nothing_is_taken_back_and_nothing_is_logged()
    {
        Assert.Equal(0, File().TakeBack(new ProcessRegistry(1)));
        Assert.Empty(_log);
    }
}
