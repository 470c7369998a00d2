using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using OpenMosix.Daemon.Migration.Home;
using OpenMosix.Daemon.Processes;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Migration;

/// <summary>What an omd killed without a drain leaves to the next about its processes away (issue #17 part 1).</summary>
public sealed class AwayStateFileTests : IDisposable
{
    private readonly TempDirectory _dir = new("om-away");
    private readonly List<string> _log = [];

    public void Dispose() => _dir.Dispose();

    private AwayStateFile File() => new(_dir.Path, new TestOutputLoggerFactory(_log.Add, LogLevel.Information).CreateLogger("migration"));

    private static SavedAway Entry(int pid, int node = 2) =>
        new(new SavedProcess(pid, 777, 1000, "memticker 16", false, null, null, null, false, 1, "/bin/memticker", 1, 0.5),
            node, "10.0.0.2:4000", 5000 + pid, [1, 2], Input: true);

    [Fact]
    public void Processes_away_are_written_0600_as_they_change_and_the_next_omd_reads_the_last_set()
    {
        var file = File();
        file.Add(Entry(41));
        file.Add(Entry(42, node: 3));
        file.Remove(41);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(file.Path));

        var saved = Assert.Single(File().Load());
        Assert.Equal((42, 3, "10.0.0.2:4000", 5042, true), (saved.Process.Pid, saved.Node, saved.Endpoint, saved.RemotePid, saved.Input));
        Assert.Equal([1, 2], saved.Outputs);
        Assert.Equal((777UL, "memticker 16", 1), (saved.Process.StartTime, saved.Process.Command, saved.Process.Migrations));
    }

    [Fact]
    public void Delivered_counts_survive_their_omd_and_a_move_out_starts_them_at_zero_and_removal_deletes_them()
    {
        var file = File();
        file.Add(Entry(43));
        using (var counts = file.Counts(43, fresh: true))
        {
            counts.Add(1, 4096);
            counts.Add(1, 10);
            counts.Add(2, 3);
        }
        using (var again = File().Counts(43, fresh: false))
            Assert.Equal([new(1, 4106), new(2, 3)], again.Of([1, 2]));
        using (var moved = File().Counts(43, fresh: true))
            Assert.Equal(0, moved.Of(1));
        var path = DeliveredCounts.PathOf(file.CountsDirectory, 43);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(path));
        file.Remove(43);
        Assert.False(System.IO.File.Exists(path));
    }

    [Theory]
    [InlineData("not json", "")]
    [InlineData("{\"version\":2,\"away\":[]}", "version 2 is not 1")]
    [InlineData("{\"version\":1,\"away\":[{\"process\":null,\"node\":2,\"endpoint\":\"10.0.0.2:4000\",\"remotePid\":5,\"outputs\":[1],\"input\":false}]}", "no process")]
    [InlineData("{\"version\":1,\"away\":[{\"process\":{\"pid\":9,\"startTime\":1},\"node\":70000,\"endpoint\":\"10.0.0.2:4000\",\"remotePid\":5,\"outputs\":[1],\"input\":false}]}", "process 9: node 70000 out of range")]
    [InlineData("{\"version\":1,\"away\":[{\"process\":{\"pid\":9,\"startTime\":1},\"node\":2,\"endpoint\":\"nowhere\",\"remotePid\":5,\"outputs\":[1],\"input\":false}]}", "'nowhere' is not an address and port")]
    [InlineData("{\"version\":1,\"away\":[{\"process\":{\"pid\":9,\"startTime\":1},\"node\":2,\"endpoint\":\"10.0.0.2:4000\",\"remotePid\":5,\"outputs\":[0],\"input\":false}]}", "relayed outputs out of range")]
    public void A_bad_state_file_is_refused_in_one_line_and_costs_the_next_omd_one_warning(string json, string expected)
    {
        var error = Assert.Throws<JsonException>(() => AwayStateFile.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);

        var file = File();
        System.IO.File.WriteAllText(file.Path, json);
        Assert.Empty(file.Load());
        var warning = Assert.Single(_log, line => line.Contains("is unreadable", StringComparison.Ordinal));
        Assert.DoesNotContain('\n', warning);
    }
}
