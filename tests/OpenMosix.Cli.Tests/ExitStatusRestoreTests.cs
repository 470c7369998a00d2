using OpenMosix.Cli.Tests.Support;
using static OpenMosix.Cli.Tests.Support.Scenario;

namespace OpenMosix.Cli.Tests;

/// <summary>om restore waits for the restored process and exits with its status, as a shell would see it.</summary>
public sealed class ExitStatusRestoreTests
{
    [Fact]
    public async Task Om_restore_exits_with_the_exit_code_of_the_restored_process()
    {
        var outcome = await CheckpointFlow.RunAsync(new Scenario
        {
            Key = "exitcode 3 30 50",
            Command = dir => CompiledProgramRestoreTests.Target(dir, "exitcode", "3", "30", "50"),
            Ready = PrintedLines(3),
            ReadyDescription = "exitcode printed three ticks",
            MaxExtraDelay = TimeSpan.FromMilliseconds(700),
        });
        Assert.Equal(3, outcome.ExitStatus);
    }

    [Fact]
    public async Task Om_restore_exits_with_128_plus_the_signal_that_killed_the_restored_process()
    {
        var outcome = await CheckpointFlow.RunAsync(new Scenario
        {
            Key = "killself 30 50",
            Command = dir => CompiledProgramRestoreTests.Target(dir, "killself", "30", "50"),
            Ready = PrintedLines(3),
            ReadyDescription = "killself printed three ticks",
            MaxExtraDelay = TimeSpan.FromMilliseconds(700),
        });
        Assert.Equal(128 + 15, outcome.ExitStatus);
    }
}
