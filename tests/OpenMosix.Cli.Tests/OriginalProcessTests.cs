using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>Without --kill a checkpoint is invisible to the process: it runs on and finishes exactly as it would have.</summary>
public sealed class OriginalProcessTests
{
    [Fact]
    public async Task Checkpoint_without_kill_leaves_the_original_running_unchanged()
    {
        var scenario = new Scenario
        {
            Key = "avxmath 60",
            Command = dir => CompiledProgramRestoreTests.Target(dir, "avxmath", "60"),
            Ready = Scenario.PrintedLines(2),
            ReadyDescription = "avxmath finished two blocks",
        };
        var reference = await ReferenceCache.GetAsync(scenario.Key, () => CheckpointFlow.RunUninterruptedAsync(scenario));
        var random = TestSeed.Create();
        using var dir = new TempDirectory("om-e2e-" + "resume");
        using var process = RunningProcess.Start(scenario.Command(dir.Path));
        process.CloseStdin();
        await Wait.UntilAsync(() => scenario.Ready(process), TimeSpan.FromSeconds(20), scenario.ReadyDescription);
        var delay = random.Next(0, 600);
        TestLog.Line($"checkpointing {delay} ms after ready");
        await Task.Delay(delay, TestContext.Current.CancellationToken);

        var checkpoint = await OmCli.CheckpointAsync(process.Pid, dir.File("process.omimg"), kill: false);
        Assert.True(checkpoint.ExitCode == 0, checkpoint.ToString());
        Assert.True(new FileInfo(dir.File("process.omimg")).Length > 0, "the image file is empty");
        var status = await process.WaitForExitWhileItRunsAsync(scenario.RunTimeout);
        new ProgramOutcome(process.StdoutBytes, status, new Dictionary<string, byte[]>()).ShouldMatch(reference);
    }
}
