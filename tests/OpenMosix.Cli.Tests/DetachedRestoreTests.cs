using System.Text;
using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>`om restore --detach` hands the restored process over and returns; the process finishes on its own.</summary>
public sealed class DetachedRestoreTests
{
    [Fact]
    public async Task Detached_restore_returns_while_the_process_finishes_on_its_own()
    {
        var scenario = new Scenario
        {
            Key = "sh -c exec sleeper 40 50 > out.txt",
            Command = dir => new ProcessSpec("/bin/sh", ["-c", "exec \"$0\" \"$@\" > out.txt", TestPaths.Program("sleeper"), "40", "50"], dir),
            Ready = _ => true,
            ReadyDescription = "",
            CollectFiles = dir => CheckpointFlow.ReadFiles(dir, "out.txt"),
        };
        var reference = await ReferenceCache.GetAsync(scenario.Key, () => CheckpointFlow.RunUninterruptedAsync(scenario));
        var expected = reference.Files["out.txt"];
        using var dir = new TempDirectory("om-e2e-" + "detach");
        var output = dir.File("out.txt");
        using var original = RunningProcess.Start(scenario.Command(dir.Path));
        original.CloseStdin();
        await Wait.UntilAsync(() => File.Exists(output) && File.ReadAllBytes(output).Count(b => b == (byte)'\n') >= 5,
            TimeSpan.FromSeconds(20), "sleeper wrote five lines to out.txt");

        var image = dir.File("process.omimg");
        var checkpoint = await OmCli.CheckpointAsync(original.Pid, image, kill: true);
        Assert.True(checkpoint.ExitCode == 0, checkpoint.ToString());
        await original.WaitForExitAsync(TimeSpan.FromSeconds(30));

        // Returns long before the ~1.8 s of sleeping left; the process keeps om's stdin/stderr pipes, so only om's
        // own exit is awaited, then the PID it printed.
        TestLog.Line($"$ om restore {image} --detach");
        using var om = RunningProcess.Start(new ProcessSpec(TestPaths.Om, ["restore", image, "--detach"], dir.Path));
        om.CloseStdin();
        var status = await om.WaitForExitAsync(TimeSpan.FromSeconds(30), untilOutputEnds: false);
        Assert.True(status == 0, $"om restore --detach exited {status}: {om.StderrText}");
        Assert.False(File.ReadAllText(output).EndsWith("sleeper done ticks=40\n", StringComparison.Ordinal),
            "om restore --detach waited for the process to finish");
        await om.WaitForStdoutLinesAsync(1, TimeSpan.FromSeconds(10));
        Assert.True(int.TryParse(om.StdoutText.Trim(), out var pid) && pid > 0, $"om restore --detach should print the PID, printed: {om.StdoutText}");
        TestLog.Line($"detached process is pid {pid}");

        await Wait.UntilAsync(() => File.ReadAllBytes(output).AsSpan().EndsWith(Encoding.ASCII.GetBytes("sleeper done ticks=40\n")),
            TimeSpan.FromSeconds(30), "the detached process finished writing out.txt");
        Assert.Equal(Encoding.ASCII.GetString(expected), File.ReadAllText(output));
    }
}
