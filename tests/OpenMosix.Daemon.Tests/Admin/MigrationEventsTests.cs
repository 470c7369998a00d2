using System.Text;
using OpenMosix.Admin;

namespace OpenMosix.Daemon.Tests.Admin;

/// <summary>A move's progress stream on the wire: one compact JSON event per line, read back to its outcome.</summary>
public sealed class MigrationEventsTests
{
    private static readonly MigrationResult Moved = new(42, 1, 2, 3 << 20, 12, 4242) { PrecopyRounds = 2, PrecopyBytes = 64 << 20, TotalMs = 900 };

    [Fact]
    public void An_event_is_one_line_of_camel_case_json_ending_in_a_newline()
    {
        var line = Encoding.UTF8.GetString(MigrationEvents.Line(new MigrationEvent(Progress: new MigrationProgress("precopy", 2, 2048, 1000))));

        Assert.EndsWith("\n", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line[..^1]);
        Assert.Contains("\"progress\":{\"phase\":\"precopy\",\"round\":2,\"bytes\":2048,\"elapsedMs\":1000,\"bytesPerSecond\":2048}", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reading_a_stream_reports_each_step_in_order_and_returns_the_result()
    {
        var steps = new List<MigrationProgress>();
        using var stream = Stream(
            new MigrationEvent(Progress: new MigrationProgress(MigrationProgress.Precopy, 1, 1 << 20, 10)),
            new MigrationEvent(Progress: new MigrationProgress(MigrationProgress.Frozen, 0, 2 << 20, 20)),
            new MigrationEvent(Result: Moved));

        var result = await MigrationEvents.ReadAsync(stream, new Recorder(steps), TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        Assert.Equal(Moved, result);
        Assert.Equal([(MigrationProgress.Precopy, 1, 1L << 20), (MigrationProgress.Frozen, 0, 2L << 20)], steps.Select(s => (s.Phase, s.Round, s.Bytes)));
    }

    [Fact]
    public async Task An_error_line_becomes_the_error_omd_would_have_answered_alone()
    {
        using var stream = Stream(new MigrationEvent(Progress: new MigrationProgress(MigrationProgress.Frozen, 0, 0, 0)),
            new MigrationEvent(Error: "node 2 refused process 42: blocked", Status: 409));

        var error = await Assert.ThrowsAsync<AdminException>(() =>
            MigrationEvents.ReadAsync(stream, null, TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));

        Assert.Equal(("node 2 refused process 42: blocked", 409), (error.Message, error.StatusCode));
    }

    [Fact]
    public async Task A_stream_that_ends_before_the_outcome_is_an_error_not_a_result()
    {
        using var stream = Stream(new MigrationEvent(Progress: new MigrationProgress(MigrationProgress.Precopy, 1, 0, 0)));

        var error = await Assert.ThrowsAsync<AdminException>(() =>
            MigrationEvents.ReadAsync(stream, null, TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));

        Assert.Contains("before the move ended", error.Message, StringComparison.Ordinal);
    }

    private static MemoryStream Stream(params MigrationEvent[] events) => new([.. events.SelectMany(MigrationEvents.Line)]);

    private sealed class Recorder(List<MigrationProgress> steps) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value) => steps.Add(value);
    }
}
