using System.Diagnostics;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Periodic checkpoints and restarts (issue #17, part 2): a process moved from node 1 to node 2 is checkpointed home
/// every 5 s (the lab's checkpoint.interval_ms); when node 2 crashes, or stays cut off past the link timeout, home
/// restarts it from the last checkpoint in its deputy. Each test gets a 2-node lab of its own, since it breaks a node.
/// The input fed again to a restarted process, and the trip home of a checkpointed one, are in
/// CheckpointReplayAndHomecomingLabTests (a class apart, so that the two run side by side).
/// </summary>
public sealed class CheckpointRestartLabTests
{
    /// <summary>Gossip's dead_after (9 s) or the link timeout (10 s), a heartbeat, the wait for the copy's node to give
    /// it up, the restore, and room for a loaded machine.</summary>
    internal static readonly TimeSpan RestartBound = TimeSpan.FromSeconds(10 + 1 + 1 + 8);

    [Fact]
    public void A_moved_process_whose_node_crashes_is_restarted_at_home_from_its_checkpoint_and_its_piped_output_is_that_of_an_uninterrupted_run()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = MovedToNode2AndCheckpointed(lab, TakenOverCopies.UntilEnded);

        Fault(lab, "kill").Succeeded();
        var clock = Stopwatch.StartNew();
        lab.WaitForDaemonLog(1, $"process {run.Pid} restarted here from checkpoint", RestartBound + TimeSpan.FromSeconds(10));
        Assert.True(clock.Elapsed <= RestartBound, $"restarted {clock.Elapsed.TotalSeconds:F1} s after the crash; the bound is {RestartBound.TotalSeconds:F0} s");
        Fault(lab, "revive").Succeeded();

        Assert.Equal(new ChildExit(0, 0), EndTicking(run));
        Assert.Equal(UninterruptedAsLong(run.Lines()), run.Lines());
        Assert.DoesNotContain($"process {run.Pid} lost", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
        Poll.Until(() => !File.Exists(CheckpointOf(lab, run.Pid)), TimeSpan.FromSeconds(10), "home to remove the checkpoint of the ended process");
    }

    [Fact]
    public void A_copy_cut_off_longer_than_the_timeout_is_restarted_at_home_and_the_stale_copy_is_gone_after_the_heal()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = MovedToNode2AndCheckpointed(lab, TakenOverCopies.UntilEnded);
        var copy = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).RemotePid;
        using var copyFd = Linux.PidFd.Open(copy);

        Fault(lab, "cut").Succeeded();
        lab.WaitForDaemonLog(1, $"process {run.Pid} restarted here from checkpoint", RestartBound + TimeSpan.FromSeconds(10));
        // Node 2 gave the copy up on its own side of the cut before home restarted it: never two copies.
        Assert.False(copyFd.Exists, $"the copy {copy} still ran on node 2 when home restarted the process");
        Fault(lab, "heal").Succeeded();

        Assert.Equal(new ChildExit(0, 0), EndTicking(run));
        Assert.Equal(UninterruptedAsLong(run.Lines()), run.Lines());
        Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
    }

    /// <summary>memticker (16 MB, a tick every 50 ms) started with om run on node 1, moved to node 2, and running there
    /// until home holds its second checkpoint (the first whole, the second merged into it).</summary>
    internal static ManagedRun MovedToNode2AndCheckpointed(TestLab lab, string ticks)
    {
        var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", ticks, "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        WaitForCheckpoints(lab, run.Pid);
        return run;
    }

    /// <summary>Until home holds a second checkpoint of the process (the first whole, the second merged into it).</summary>
    internal static void WaitForCheckpoints(TestLab lab, int pid)
    {
        var checkpoint = CheckpointOf(lab, pid);
        Poll.Until(() => File.Exists(checkpoint), TimeSpan.FromSeconds(30), "home to store the first checkpoint");
        var first = File.GetLastWriteTimeUtc(checkpoint);
        Poll.Until(() => File.Exists(checkpoint) && File.GetLastWriteTimeUtc(checkpoint) != first, TimeSpan.FromSeconds(30), "home to store a second checkpoint");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(checkpoint));
    }

    internal static string CheckpointOf(TestLab lab, int pid) =>
        Path.Combine(lab.Layout.NodeDirectory(1), "state", "checkpoints", $"{pid}.ckpt");

    /// <summary>
    /// Ends a memticker started with "usr1" for its ticks, once it has ticked three more times where it runs now:
    /// SIGUSR1 to its PID at home, which home forwards wherever it runs. Returns its exit (bounded).
    /// </summary>
    internal static ChildExit EndTicking(ManagedRun run)
    {
        run.WaitForLines(run.Lines().Count + 3);
        Signals.Kill(run.Pid, Signals.SIGUSR1);
        return run.Process.WaitForExit(TimeSpan.FromSeconds(60));
    }

    /// <summary>What a 16 MB memticker prints when nothing happens to it in as many ticks as <paramref name="lines"/> hold.</summary>
    internal static List<string> UninterruptedAsLong(IReadOnlyList<string> lines) =>
        Uninterrupted("16", $"{lines.Count(l => l.StartsWith("tick ", StringComparison.Ordinal))}");

    /// <summary>What memticker prints when nothing happens to it (the pause between ticks changes nothing printed).</summary>
    internal static List<string> Uninterrupted(string megabytes, string ticks) =>
        [.. CommandRun.Run(TestPrograms.Locate("memticker"), [megabytes, ticks, "0"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)];

    internal static OmResult Fault(TestLab lab, string verb) => Om.Run(["lab", verb, "--name", lab.Name, "2"]);
}
