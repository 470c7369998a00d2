using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>A process checkpointed, killed and restored again and again: each restored copy is checkpointed in turn.</summary>
public sealed class RepeatedCheckpointTests
{
    private const int Generations = 20, TickMs = 20;

    [Fact]
    public async Task Process_restored_twenty_times_in_a_row_finishes_identically()
    {
        var random = TestSeed.Create();
        using var dir = new TempDirectory("om-e2e-" + "generations");
        var output = new List<byte>();

        // Generation 0 is the original; generation k runs under the k-th `om restore`, whose child it is. The sleeper
        // ticks until SIGUSR1 (a `sleeper 400 20` had ended at generation 13 under load): each generation is
        // checkpointed wherever its tick loop is, and only the last is let go.
        var current = RunningProcess.Start(HeldSleeper.Spec(dir.Path, TickMs));
        var pid = current.Pid;
        try
        {
            for (var generation = 1; generation <= Generations; generation++)
            {
                var printed = current.StdoutLines;
                await current.WaitForStdoutLinesAsync(printed + 2, TimeSpan.FromSeconds(20));
                var delay = random.Next(0, 60);
                await Task.Delay(delay, TestContext.Current.CancellationToken);
                Assert.False(current.HasExited, $"generation {generation - 1} ended before its checkpoint, though it was never told to: {current.StderrText}");

                var image = dir.File($"generation{generation}.omimg");
                TestLog.Line($"generation {generation}: checkpoint pid {pid} after {delay} ms");
                var checkpoint = await OmCli.CheckpointAsync(pid, image, kill: true);
                Assert.True(checkpoint.ExitCode == 0, $"generation {generation}: {checkpoint}");
                var status = await current.WaitForExitAsync(TimeSpan.FromSeconds(30));
                Assert.True(status == 128 + 9, $"generation {generation - 1} should end killed by SIGKILL (137), got {status}: {current.StderrText}");
                output.AddRange(current.StdoutBytes);
                current.Dispose();

                current = OmCli.StartRestore(image, dir.Path);
                current.CloseStdin();
                var restorer = current;
                await restorer.WaitForStdoutLinesAsync(1, TimeSpan.FromSeconds(20));
                var children = ProcFs.Children(restorer.Pid);
                Assert.True(children.Count == 1, $"om restore (pid {restorer.Pid}) should have exactly the restored process as child, has [{string.Join(", ", children)}]");
                pid = children[0];
            }

            // The last copy ticks on after its restore before it is let go: it runs, not only exists.
            await current.WaitForStdoutLinesAsync(current.StdoutLines + 2, TimeSpan.FromSeconds(20));
            HeldSleeper.Release(pid);
            var finalStatus = await current.WaitForExitAsync(TimeSpan.FromSeconds(60));
            output.AddRange(current.StdoutBytes);
            var ticks = HeldSleeper.Ticks([.. output]);
            TestLog.Line($"the generations printed {ticks} ticks in all");
            var reference = await HeldSleeper.ReferenceAsync(ticks, TickMs);
            new ProgramOutcome([.. output], finalStatus, new Dictionary<string, byte[]>()).ShouldMatch(reference);
        }
        finally
        {
            current.Dispose();
        }
    }
}
