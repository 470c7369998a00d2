using Microsoft.Extensions.Logging;
using OpenMosix.Daemon.Migration.Guest;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Migration;

/// <summary>What keeps a guest for the next omd when its omd is killed: the state file and the keeper's own life.</summary>
public sealed class GuestKeepingTests : IDisposable
{
    private readonly TempDirectory _dir = new("om-guests");
    private readonly List<string> _log = [];

    public void Dispose() => _dir.Dispose();

    private GuestStateFile File() => new(_dir.Path, new TestOutputLoggerFactory(_log.Add, LogLevel.Information).CreateLogger("guest"));

    private static SavedGuest Guest(int copy) =>
        new(copy, 777, 1, 4000 + copy, 9000 + copy, 888, [1, 2], Input: true, InputIsTerminal: false, TerminalOutput: null, Listener: true,
            ReservedFrom: 960, ReservedTop: 1024, Uid: 1000, Command: "memticker 16", Decay: null, Hint: null);

    [Fact]
    public void Guests_are_written_0600_as_they_come_and_go_and_the_next_omd_reads_the_last_set()
    {
        var file = File();
        file.Add(Guest(41));
        file.Add(Guest(42));
        file.Remove(41);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(file.Path));

        var saved = Assert.Single(File().Load());
        Assert.Equal(Guest(42) with { Outputs = saved.Outputs }, saved);
        Assert.Equal([1, 2], saved.Outputs);
        Assert.Equal(4, saved.Held);
    }

    [Fact]
    public void An_unreadable_state_file_is_one_warning_and_no_guest()
    {
        System.IO.File.WriteAllText(Path.Join(_dir.Path, GuestStateFile.FileName), "{ not json");

        Assert.Empty(File().Load());
        Assert.Contains(_log, line => line.Contains("is unreadable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_keeper_whose_omd_is_gone_stops_the_copy_at_once_and_kills_it_when_the_window_closes()
    {
        using var copy = ChildProcess.Start("/bin/sleep", ["1000"]);
        // Its omd is not its parent: it counts as gone from the start, as after omd died before the keeper looked.
        var keeper = Task.Run(() => GuestKeeper.Run(copy.Pid, int.MaxValue - 1, TimeSpan.FromSeconds(1)), TestContext.Current.CancellationToken);

        Poll.Until(() => State(copy.Pid) is 'T', TimeSpan.FromSeconds(5), "the keeper to stop the copy");
        Assert.Equal(0, await keeper.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.Equal(new ChildExit(0, Signals.SIGKILL), copy.WaitForExit(TimeSpan.FromSeconds(10)));
    }

    private static char State(int pid) => OpenMosix.Linux.Proc.ProcStat.Parse(System.IO.File.ReadAllText($"/proc/{pid}/stat")).State;
}
