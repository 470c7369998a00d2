using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Lab.Tests.CheckpointRestartLabTests;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Periodic checkpoints (issue #17, part 2) seen from the process: input it read after the checkpoint home restarts
/// it from is fed to it again, and a checkpointed process brought home stops being checkpointed. Each test gets a
/// 2-node lab of its own; the restarts themselves are in CheckpointRestartLabTests.
/// </summary>
public sealed class CheckpointReplayAndHomecomingLabTests
{
    [Fact]
    public void A_checkpointed_process_brought_home_ends_its_checkpoints_and_runs_on_at_home_with_its_output_whole()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = MovedToNode2AndCheckpointed(lab, TakenOverCopies.UntilEnded);

        // The trip home waits for a checkpoint under way and ends the write tracking the checkpoints kept.
        lab.Migrate(1, run.Pid, "home");
        Assert.Equal(("home", 1), Where(lab, run.Pid));
        Poll.Until(() => !File.Exists(CheckpointOf(lab, run.Pid)), TimeSpan.FromSeconds(10), "home to remove the checkpoint of the process back home");

        Assert.Equal(new ChildExit(0, 0), EndTicking(run));
        Assert.Equal(UninterruptedAsLong(run.Lines()), run.Lines());
    }

    [Fact]
    public void Input_a_restarted_process_had_read_after_its_checkpoint_is_fed_to_it_again_and_its_output_is_that_of_an_uninterrupted_run()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        var (stdinRead, stdinWrite) = Descriptors.CreatePipe();
        using var run = lab.Managed(1, [TestPrograms.Locate("pipereader")], stdinRead);
        stdinRead.Dispose();
        using var feed = new StreamWriter(new FileStream(stdinWrite, FileAccess.Write)) { AutoFlush = true };
        var input = Enumerable.Range(0, 60).Select(i => $"line {i}").ToList();
        foreach (var line in input[..20]) feed.WriteLine(line);
        run.WaitForLines(20);
        lab.Migrate(1, run.Pid, "2");
        WaitForCheckpoints(lab, run.Pid);
        // Read and answered by the copy after the checkpoint home holds, then lost with node 2: the restarted process
        // must read them again (home still has them), and what it prints again must not reach the output twice.
        foreach (var line in input[20..40]) feed.WriteLine(line);
        run.WaitForLines(40);

        Fault(lab, "kill").Succeeded();
        lab.WaitForDaemonLog(1, $"process {run.Pid} restarted here from checkpoint", RestartBound + TimeSpan.FromSeconds(10));
        var restarted = File.ReadAllLines(lab.Layout.NodeDaemonLog(1)).Last(l => l.Contains($"process {run.Pid} restarted here", StringComparison.Ordinal));
        Assert.Matches(@"[1-9]\d* bytes of input fed again", restarted);
        foreach (var line in input[40..]) feed.WriteLine(line);
        feed.Close();

        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        var reference = CommandRun.Run("sh", ["-c", $"seq 0 59 | sed 's/^/line /' | {TestPrograms.Locate("pipereader")}"]).Stdout;
        Assert.Equal(reference.Split('\n', StringSplitOptions.RemoveEmptyEntries), run.Lines());
    }

    private static (string, int) Where(TestLab lab, int pid)
    {
        var process = lab.Processes(1).Processes.Single(p => p.Pid == pid);
        return (process.State, process.Where);
    }
}
