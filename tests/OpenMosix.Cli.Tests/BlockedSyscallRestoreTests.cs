using System.Text;
using OpenMosix.Cli.Tests.Support;
using static OpenMosix.Cli.Tests.Support.Scenario;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>Processes frozen inside a blocking syscall: the restored copy must restart it and carry on.</summary>
public sealed class BlockedSyscallRestoreTests
{
    private const long SysRead = 0, SysWrite = 1, SysClockNanosleep = 230;
    private const int FedLines = 40;

    [Fact]
    public Task Process_frozen_in_nanosleep_wakes_up_and_continues() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "sleeper 40 50",
        Command = dir => CompiledProgramRestoreTests.Target(dir, "sleeper", "40", "50"),
        Ready = process => process.StdoutLines >= 3 && ProcFs.BlockedSyscall(process.Pid) == SysClockNanosleep,
        ReadyDescription = "sleeper printed three ticks and is in clock_nanosleep",
        MaxExtraDelay = TimeSpan.FromMilliseconds(1000),
    });

    [Fact]
    public Task Process_frozen_in_read_on_a_pipe_reads_the_lines_fed_to_om_restore() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = $"pipereader < {FedLines} lines",
        Command = dir => CompiledProgramRestoreTests.Target(dir, "pipereader"),
        AfterStart = process => FeedAsync(process, 0, FedLines / 2, close: false),
        Ready = process => process.StdoutLines >= FedLines / 2 && ProcFs.BlockedSyscall(process.Pid) == SysRead,
        ReadyDescription = "pipereader echoed the first half of its input and waits in read()",
        MaxExtraDelay = TimeSpan.FromMilliseconds(300),
        AfterRestore = process => FeedAsync(process, FedLines / 2, FedLines, close: true),
    });

    [Fact]
    public async Task Process_frozen_in_write_to_a_full_pipe_delivers_the_whole_stream()
    {
        var reference = await ReferenceCache.GetAsync("pipewriter 32", () => CheckpointFlow.RunUninterruptedAsync(new Scenario
        {
            Key = "pipewriter 32",
            Command = dir => CompiledProgramRestoreTests.Target(dir, "pipewriter", "32"),
            Ready = _ => true,
            ReadyDescription = "",
        }));
        var random = TestSeed.Create();
        using var dir = new TempDirectory("om-e2e-" + "pipewriter");
        var command = CompiledProgramRestoreTests.Target(dir.Path, "pipewriter", "32");
        TestLog.Line("$ " + command);
        using var original = RunningProcess.Start(command, pumpStdout: false);
        original.CloseStdin();

        // Read the first megabyte, then stop reading: the pipe fills and pipewriter blocks in write().
        var received = new MemoryStream();
        var chunk = new byte[64 * 1024];
        while (received.Length < 1 << 20)
        {
            var read = await original.StdoutPipe.ReadAsync(chunk, TestContext.Current.CancellationToken);
            Assert.True(read > 0, "pipewriter ended before writing 1 MB");
            received.Write(chunk, 0, read);
        }
        await Wait.UntilAsync(() => ProcFs.BlockedSyscall(original.Pid) == SysWrite, TimeSpan.FromSeconds(10), "pipewriter blocks in write()");
        var delay = random.Next(0, 301);
        TestLog.Line($"pipewriter blocked in write(); checkpointing {delay} ms later");
        await Task.Delay(delay, TestContext.Current.CancellationToken);

        var image = dir.File("process.omimg");
        var checkpoint = await OmCli.CheckpointAsync(original.Pid, image, kill: true);
        Assert.True(checkpoint.ExitCode == 0, checkpoint.ToString());
        await original.StdoutPipe.CopyToAsync(received, TestContext.Current.CancellationToken);  // what sat in the pipe
        Assert.Equal(128 + 9, await original.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        using var restored = OmCli.StartRestore(image, dir.Path);
        restored.CloseStdin();
        var status = await restored.WaitForExitAsync(TimeSpan.FromSeconds(60));
        new ProgramOutcome([.. received.ToArray(), .. restored.StdoutBytes], status, new Dictionary<string, byte[]>())
            .ShouldMatch(reference);
    }

    private static async Task FeedAsync(RunningProcess process, int from, int to, bool close)
    {
        var text = new StringBuilder();
        for (var i = from; i < to; i++) text.Append($"line {i} of the feed: the quick brown fox {i * 7919 % 1000}\n");
        await process.Stdin.WriteAsync(Encoding.ASCII.GetBytes(text.ToString()), TestContext.Current.CancellationToken);
        await process.Stdin.FlushAsync(TestContext.Current.CancellationToken);
        if (close) process.CloseStdin();
    }
}
