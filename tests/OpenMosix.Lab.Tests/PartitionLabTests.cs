using System.Diagnostics;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Node links under a partition (issue #17, liveness): a process moved from node 1 to node 2, then `om lab cut 2`.
/// Each test gets a 2-node lab of its own, since it cuts a node. The lab's omd.toml: heartbeats every 0.5 s, link
/// timeout 10 s, gossip dead after 9 s (docs/reliability.md). A failure carries the end of every node's omd log and
/// the kernel's killed processes, and keeps the logs (FailureReport): the 5 s partition's process was once SIGKILLed
/// at home in a CI rehearsal, and nothing kept told by whom.
/// </summary>
public sealed class PartitionLabTests
{
    /// <summary>Gossip's dead_after (9 s) or the link timeout (10 s), whichever comes first, a heartbeat, and room for
    /// a loaded machine.</summary>
    private static readonly TimeSpan LostBound = TimeSpan.FromSeconds(10 + 1 + 4);

    [Fact]
    public void A_moved_process_survives_a_5_s_partition_and_its_piped_output_is_that_of_an_uninterrupted_run()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        lab.ExplainingFailure(() =>
        {
            using var run = MovedToNode2(lab, TakenOverCopies.UntilEnded);
            var remote = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid);
            Assert.Equal(("remote", 2), (remote.State, remote.Where));
            using var copy = Linux.PidFd.Open(remote.RemotePid);

            // The partition itself: five seconds in which nothing crosses to or from node 2, counted from the start of
            // `om lab cut` (the port is disabled somewhere within it) to that of `om lab heal`, so that what a loaded
            // machine adds to the two commands does not make it longer than the five seconds this test is about.
            var partition = Stopwatch.StartNew();
            Fault(lab, "cut").Succeeded();
            var cut = partition.Elapsed;
            var lines = run.Lines().Count;
            if (TimeSpan.FromSeconds(5) - partition.Elapsed is { Ticks: > 0 } rest) Thread.Sleep(rest);
            Assert.True(copy.Exists, "the copy on node 2 ended during the partition");
            var heal = partition.Elapsed;
            Fault(lab, "heal").Succeeded();
            var healed = partition.Elapsed;

            // Killed at home once in a CI rehearsal, cause unknown. One suspect: the link's TCP retransmissions back off
            // during a cut (with a 200 ms RTO they are due 3.0, 6.2 and 12.6 s after the first lost heartbeat; with
            // 300 ms, 4.5 and 9.3 s), so a partition only a little longer, or a larger RTO on a loaded machine, is heard
            // of after the 10 s link timeout. Say how long this one was; the omd logs say the rest (FailureReport).
            // Ended by the test once it ticks on after the heal (SIGUSR1 through home), not by a running time waited out.
            var exit = CheckpointRestartLabTests.EndTicking(run);
            Assert.True(exit == new ChildExit(0, 0), $"the process ended {exit}; the cut took {cut.TotalSeconds:F2} s, the heal " +
                $"began {heal.TotalSeconds:F2} s and ended {healed.TotalSeconds:F2} s after the cut began");
            Assert.True(run.Lines().Count > lines + 20, "the copy's output during the cut was not delivered");
            Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
            Assert.DoesNotContain("declared dead", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
            Assert.DoesNotContain("declared dead", File.ReadAllText(lab.Layout.NodeDaemonLog(2)), StringComparison.Ordinal);
        });
    }

    /// <summary>
    /// The race between a copy's exit and its link (docs/reliability.md, "An exit the link breaks under"), forced: the
    /// copy is told to exit (SIGUSR1, sent straight to it) while node 2 is cut off, so its last output and its exit
    /// status are the last frames node 2 sends, into a link that carries nothing, while home's heartbeats pile up on the
    /// other side. A node that closed the link after the exit (as before) has the heal meet a closed socket, which
    /// resets it under home's queued writes; now it waits for home to close. Home's shell must see the copy's own exit
    /// code, and every line once. The cut lasts about 5 s, as the survived partition above, under the 10 s timeout.
    /// </summary>
    [Fact]
    public void A_copy_that_exits_while_its_link_is_cut_gives_home_its_exit_code_and_output_once_after_the_heal()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        lab.ExplainingFailure(() =>
        {
            using var run = lab.Managed(1, TestPrograms.Locate("exitonusr1"), "7", "50");
            run.WaitForLines(3);
            lab.Migrate(1, run.Pid, "2");
            var copy = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).RemotePid;
            run.WaitForLines(run.Lines().Count + 3);

            var partition = Stopwatch.StartNew();
            Fault(lab, "cut").Succeeded();
            Signals.Kill(copy, Signals.SIGUSR1);
            // The condition the product reports: node 2's omd has the copy's exit (and has sent it into the cut link),
            // within the 5 s the cut may last (TCP's backoff would carry a longer one past the link timeout).
            lab.WaitForDaemonLog(2, $"guest {copy} exited with code 7", TimeSpan.FromSeconds(5) - partition.Elapsed);
            var exited = partition.Elapsed;
            Assert.False(run.Process.HasExited, "home's deputy ended while node 2 was cut off");
            if (TimeSpan.FromSeconds(5) - partition.Elapsed is { Ticks: > 0 } rest) Thread.Sleep(rest);
            var heal = partition.Elapsed;
            Fault(lab, "heal").Succeeded();

            var exit = run.Process.WaitForExit(TimeSpan.FromSeconds(60));
            Assert.True(exit == new ChildExit(7, 0), $"home's shell saw {exit}; the copy exited {exited.TotalSeconds:F2} s into the cut, healed at {heal.TotalSeconds:F2} s");
            var lines = run.Lines();
            var ticks = lines.Count - 1;
            Assert.Equal([.. Enumerable.Range(0, ticks).Select(i => $"tick {i}"), $"exitonusr1 exiting with 7 after {ticks} ticks"], lines);
            // omd's console logger writes on a thread of its own: the line home logs before it ends the deputy may land
            // in the file after the shell saw the exit (a read at once once found it missing, 1.7 s after the heal).
            var ended = $"process {run.Pid} ended on its remote node: exited with code 7";
            lab.WaitForDaemonLog(1, ended);
            var homeLog = File.ReadAllText(lab.Layout.NodeDaemonLog(1));
            Assert.Single(homeLog.Split('\n'), l => l.Contains(ended, StringComparison.Ordinal));
            Assert.DoesNotContain($"process {run.Pid} lost", homeLog, StringComparison.Ordinal);
            Assert.DoesNotContain("declared dead", homeLog, StringComparison.Ordinal);
        });
    }

    /// <summary>No periodic checkpoints in this lab: with one stored (the lab takes the first 5 s after the move, and a
    /// loaded machine once let 5 s pass before the cut) home restarts the process from it instead of losing it, which
    /// CheckpointRestartLabTests show; this test is about the loss.</summary>
    [Fact]
    public void A_partition_longer_than_the_timeout_loses_the_copy_at_home_in_time_and_leaves_no_copy_on_node_2()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance", "--checkpoint-interval", "0");
        lab.ExplainingFailure(() =>
        {
            using var run = MovedToNode2(lab, "100000");
            var copy = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).RemotePid;
            using var copyFd = Linux.PidFd.Open(copy);
            Assert.True(copyFd.Exists, $"no copy {copy} on node 2");

            Fault(lab, "cut").Succeeded();
            var clock = Stopwatch.StartNew();

            // Home: the deputy ends as if killed; node 2, on its own side of the cut, kills the copy.
            Assert.Equal(new ChildExit(0, Signals.SIGKILL), run.Process.WaitForExit(LostBound + TimeSpan.FromSeconds(30)));
            Assert.True(clock.Elapsed <= LostBound, $"home declared the copy lost after {clock.Elapsed.TotalSeconds:F1} s; the bound is {LostBound.TotalSeconds:F0} s");
            lab.WaitForDaemonLog(1, $"process {run.Pid} lost: node 2 is gone");
            lab.WaitForDaemonLog(1, "link with node 2 declared dead");
            Poll.Until(() => !copyFd.Exists, LostBound, $"node 2 to kill the copy {copy}");
            lab.WaitForDaemonLog(2, "link with node 1 declared dead");
            Assert.True(clock.Elapsed > TimeSpan.FromSeconds(5), $"declared dead after only {clock.Elapsed.TotalSeconds:F1} s");

            Fault(lab, "heal").Succeeded();
            Poll.Until(() => NodeProbe.StateSeen(lab, 1, 2) == "alive", TimeSpan.FromSeconds(20), "node 1 to see node 2 again");
            Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
            Assert.False(copyFd.Exists, $"the copy {copy} came back after the heal");
        });
    }

    /// <summary>The image must still be on its way when the cut takes effect: a move of 1.5 GB once took 2.26 s, less
    /// than `om lab cut` took under load. The lab's moves are held to 16 MiB/s (migration.bandwidth_limit_mib_s), so the
    /// 512 MiB image takes 32 s on any machine, and the test checks that it was still frozen mid-image at the cut.</summary>
    [Fact]
    public async Task An_image_stalled_by_a_partition_ends_within_the_bound_keeps_the_process_at_home_and_frees_the_tracer()
    {
        using var lab = TestLab.WithDaemons(3, "--timeout", "15", "--no-balance", "--bandwidth-limit", "16");
        await lab.ExplainingFailureAsync(async () =>
        {
            lab.WaitForDaemonLog(1, "bandwidth limit 16 MiB/s");
            using var big = lab.Managed(1, TestPrograms.Locate("memticker"), "512", "100", "50");
            using var small = lab.Managed(1, TestPrograms.Locate("sleeper"), "400", "50");
            // Filling 1.5 GB took over 20 s in a loaded CI run (the other test projects run alongside).
            big.WaitForLines(2, TimeSpan.FromSeconds(120));
            small.WaitForLines(2);
            var target = lab.Status.Nodes.Single(n => n.Id == 2).DaemonPid!.Value;
            var migrate = Task.Run(() => lab.Exec(1, Om.Path, "migrate", $"{big.Pid}", "2", "--no-precopy"), TestContext.Current.CancellationToken);
            // The image is on its way once node 2's omd has a child (the process it restores into): cut it off then.
            Poll.Until(() => NodeFailureLabTests.ChildrenOf(target).Any() || migrate.IsCompleted, TimeSpan.FromSeconds(30), "node 2 to start restoring");
            Assert.False(migrate.IsCompleted, "the transfer finished before node 2 could be cut off");
            // Frozen under omd's trace while its image streams: the window this test is about is open.
            Assert.Equal('t', OpenMosix.Linux.Proc.ProcFs.ReadStat(big.Pid).State);
            Fault(lab, "cut").Succeeded();
            var clock = Stopwatch.StartNew();

            // Home's tracer thread streams the frozen image into the stalled link: another move waits for it, and gets it
            // once the link is declared dead, not when TCP gives up.
            var other = lab.Exec(1, Om.Path, "migrate", $"{small.Pid}", "3");
            var failed = await migrate;

            Assert.True(clock.Elapsed <= LostBound, $"the stalled image held the tracer for {clock.Elapsed.TotalSeconds:F1} s; the bound is {LostBound.TotalSeconds:F0} s");
            Assert.Equal(0, other.ExitCode);
            Assert.Equal(1, failed.ExitCode);
            Assert.EndsWith($"process {big.Pid} runs on here\n", failed.Stderr, StringComparison.Ordinal);
            Assert.Equal(new ChildExit(0, 0), big.Process.WaitForExit(TimeSpan.FromSeconds(60)));
            Assert.Equal(Uninterrupted("512", "100"), big.Lines());
            Assert.Equal(new ChildExit(0, 0), small.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        });
    }

    /// <summary>memticker (16 MB, a tick every 50 ms) started with om run on node 1 and moved to node 2.</summary>
    private static ManagedRun MovedToNode2(TestLab lab, string ticks)
    {
        var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", ticks, "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        return run;
    }

    /// <summary>What memticker prints when nothing happens to it (the pause between ticks changes nothing printed).</summary>
    internal static List<string> Uninterrupted(string megabytes, string ticks) =>
        [.. CommandRun.Run(TestPrograms.Locate("memticker"), [megabytes, ticks, "0"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)];

    private static OmResult Fault(TestLab lab, string verb) => Om.Run(["lab", verb, "--name", lab.Name, "2"]);
}
