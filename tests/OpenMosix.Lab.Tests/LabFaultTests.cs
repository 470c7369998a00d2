using System.Diagnostics;
using OpenMosix.Lab.State;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// `om lab restart | kill | revive | cut | heal | netem`: the faults of issue #17 injected into node 2 of a 2-node lab
/// of its own per test (each leaves its lab changed). The lab's omd.toml: one gossip round a second, dead after 9 s.
/// </summary>
public sealed class LabFaultTests
{
    private static readonly TimeSpan DeadBound = TimeSpan.FromSeconds(9 + 2 + 1);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(20);

    [Fact]
    public void Restart_replaces_omd_which_rejoins_the_cluster_while_a_plain_process_of_the_node_runs_on()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var sleeper = NodeProbe.StartSleeper(lab, 2);
        var old = lab.Status.Nodes.Single(n => n.Id == 2).DaemonPid!.Value;
        using var oldOmd = Linux.PidFd.Open(old);

        var restart = Fault(lab, "restart", 2).Succeeded();

        var node = lab.ReadStatus().Nodes.Single(n => n.Id == 2);
        Assert.NotEqual(old, node.DaemonPid);
        Assert.True(node is { DaemonAlive: true, DaemonSocketReady: true, DaemonRestarts: 1, Killed: false }, restart.ToString());
        Assert.Equal($"node 2: omd {old} stopped; omd {node.DaemonPid} started and accepting connections\n", restart.Stdout);
        Assert.True(Watched.State(oldOmd) is 'X' or 'Z', $"the old omd {old} still runs");
        Poll.Until(() => NodeProbe.StateSeen(lab, 1, 2) == "alive" && NodeProbe.StateSeen(lab, 2, 1) == "alive", Settle,
            "nodes 1 and 2 to see each other alive after the restart");
        Assert.False(sleeper.HasExited, "the plain process of node 2 ended with its omd");
    }

    [Fact]
    public void Kill_removes_every_process_of_the_node_and_only_those_and_the_other_node_sees_it_dead_in_time()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var victim = NodeProbe.StartSleeper(lab, 2);
        using var bystander = NodeProbe.StartSleeper(lab, 1);
        var survivors = NodeProbe.CgroupProcesses(lab, 1);
        var clock = Stopwatch.StartNew();

        var kill = Fault(lab, "kill", 2).Succeeded();

        Assert.Equal(new ChildExit(0, Signals.SIGKILL), victim.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.Empty(NodeProbe.CgroupProcesses(lab, 2));
        Assert.Equal(survivors, NodeProbe.CgroupProcesses(lab, 1));
        Assert.False(bystander.HasExited, "node 1's process died with node 2");
        Assert.StartsWith("node 2 killed: 2 processes, network cut", kill.Stdout, StringComparison.Ordinal);
        var status = lab.ReadStatus().Nodes;
        Assert.True(status.Single(n => n.Id == 2) is { Killed: true, NetworkCut: true, DaemonAlive: false }, kill.ToString());
        Assert.True(status.Single(n => n.Id == 1) is { Killed: false, NetworkCut: false, DaemonAlive: true, DaemonSocketReady: true });
        Poll.Until(() => NodeProbe.StateSeen(lab, 1, 2) == "dead", DeadBound + TimeSpan.FromSeconds(10), "node 1 to see node 2 dead");
        Assert.True(clock.Elapsed <= DeadBound, $"node 1 saw node 2 dead after {clock.Elapsed.TotalSeconds:F1} s; the bound is {DeadBound.TotalSeconds:F0} s");
        Assert.False(NodeProbe.Pings(lab, 1, 2), "a killed node answers ping");
    }

    [Fact]
    public void Revive_brings_a_killed_node_back_empty_with_a_fresh_omd_the_cluster_sees_alive()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var victim = NodeProbe.StartSleeper(lab, 2);
        Fault(lab, "kill", 2).Succeeded();
        Poll.Until(() => NodeProbe.StateSeen(lab, 1, 2) is "suspect" or "dead", Settle, "node 1 to miss node 2");

        var revive = Fault(lab, "revive", 2).Succeeded();

        var node = lab.ReadStatus().Nodes.Single(n => n.Id == 2);
        Assert.True(node is { Killed: false, NetworkCut: false, DaemonAlive: true, DaemonSocketReady: true, Revivals: 1 }, revive.ToString());
        Assert.Equal($"node 2 revived: network up, omd {node.DaemonPid} accepting connections\n", revive.Stdout);
        Assert.Equal([node.DaemonPid!.Value], NodeProbe.CgroupProcesses(lab, 2));
        Poll.Until(() => NodeProbe.StateSeen(lab, 1, 2) == "alive" && NodeProbe.StateSeen(lab, 2, 1) == "alive", Settle,
            "nodes 1 and 2 to see each other alive after the revival");
        Assert.True(NodeProbe.Pings(lab, 1, 2), "node 1 cannot ping the revived node 2");
    }

    [Fact]
    public void Cut_leaves_the_node_running_but_unreachable_and_heal_reconnects_it()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var sleeper = NodeProbe.StartSleeper(lab, 2);
        Assert.True(NodeProbe.Connects(lab, 1, 2), "node 1 cannot reach node 2's omd before the cut");

        Fault(lab, "cut", 2).Succeeded();

        Assert.False(NodeProbe.Pings(lab, 1, 2), "node 1 pings node 2 through the cut");
        Assert.False(NodeProbe.Connects(lab, 1, 2), "node 1 connects to node 2's omd through the cut");
        Assert.False(NodeProbe.Connects(lab, 2, 1), "node 2 connects to node 1's omd through the cut");
        Assert.False(sleeper.HasExited, "node 2's process ended with the cut");
        Assert.True(lab.ReadStatus().Nodes.Single(n => n.Id == 2) is { NetworkCut: true, Killed: false, DaemonAlive: true, DaemonSocketReady: true });

        Fault(lab, "heal", 2).Succeeded();

        Poll.Until(() => NodeProbe.Pings(lab, 1, 2), Settle, "node 1 to ping node 2 again");
        Assert.True(NodeProbe.Connects(lab, 1, 2), "node 1 cannot reach node 2's omd after the heal");
        Assert.False(lab.ReadStatus().Nodes.Single(n => n.Id == 2).NetworkCut);
        Assert.False(sleeper.HasExited, "node 2's process ended with the heal");
    }

    [Fact]
    public void Netem_delays_every_packet_of_the_node_both_ways_and_clear_removes_it()
    {
        Assert.SkipUnless(NodeProbe.KernelHasNetem(), "this kernel has no sch_netem");
        using var lab = new TestLab(2);
        Assert.True(NodeProbe.RoundTripMilliseconds(lab, 1, 2) < 20, "the lab is slow before any netem");

        Fault(lab, "netem", 2, "--delay", "50").Succeeded();

        // 50 ms each way: a round trip to node 2 takes at least 100 ms more.
        Assert.InRange(NodeProbe.RoundTripMilliseconds(lab, 1, 2), 100, 1000);
        Assert.Equal(new State.NetemSettings(0, 50), lab.ReadStatus().Nodes.Single(n => n.Id == 2).Netem);

        Fault(lab, "netem", 2, "--clear").Succeeded();

        Assert.True(NodeProbe.RoundTripMilliseconds(lab, 1, 2) < 20, "the delay outlived --clear");
        Assert.Null(lab.ReadStatus().Nodes.Single(n => n.Id == 2).Netem);
    }

    [Fact]
    public void Delay_without_netem_is_a_relay_that_slows_both_ways_a_move_across_it_ends_whole_and_cut_and_clear_still_work()
    {
        Assert.SkipWhen(NodeProbe.KernelHasNetem(), "this kernel has sch_netem (netem's delay is tested above)");
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", TakenOverCopies.UntilEnded, "50");
        run.WaitForLines(3);

        Assert.Equal("node 2: netem delay 50 ± 5 ms, loss 0 % each way\n", Fault(lab, "netem", 2, "--delay", "50", "--jitter", "5").Succeeded().Stdout);
        Assert.Equal(new State.NetemSettings(0, 50) { JitterMilliseconds = 5 }, lab.ReadStatus().Nodes.Single(n => n.Id == 2).Netem);
        // 50 ± 5 ms each way, in order: every round trip to node 2 takes at least 90 ms (a late relay thread adds, never
        // takes away); the upper bound only says the relay does not hold packets for ever.
        Assert.InRange(NodeProbe.RoundTripMilliseconds(lab, 1, 2), 90, 1000);

        // There and back across the slow link; the copy's output crosses it all the while.
        lab.Migrate(1, run.Pid, "2");
        run.WaitForLines(run.Lines().Count + 5);
        lab.Migrate(1, run.Pid, "home");

        // Cut and healed while delayed: the tap is the node's port on the bridge now, and it is the one cut.
        Fault(lab, "cut", 2).Succeeded();
        Assert.False(NodeProbe.Pings(lab, 1, 2), "node 1 pings node 2 through a cut");
        Assert.True(lab.ReadStatus().Nodes.Single(n => n.Id == 2).NetworkCut, "status does not show the delayed node cut");
        Fault(lab, "heal", 2).Succeeded();
        Poll.Until(() => NodeProbe.Pings(lab, 1, 2), Settle, "node 1 to ping node 2 again after the heal");

        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        Assert.DoesNotContain($"process {run.Pid} lost", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);

        // Cleared: the relay and its tap gone, the veth back on the bridge, round trips short again (under 90 ms is
        // enough to tell: a loaded machine's pings swing, never by the delay's 100).
        Fault(lab, "netem", 2, "--clear").Succeeded();
        Assert.False(Directory.Exists($"/sys/class/net/{lab.Layout.Name.RelayTap(2)}"), "the relay's tap outlived --clear");
        Assert.True(Directory.Exists($"/sys/class/net/{lab.Layout.Name.HostVeth(2)}/master"), "node 2's veth is not back on the bridge");
        Assert.InRange(NodeProbe.RoundTripMilliseconds(lab, 1, 2), 0, 90);
        Assert.Null(lab.ReadStatus().Nodes.Single(n => n.Id == 2).Netem);
    }

    [Fact]
    public async Task Clear_returns_only_once_the_relay_has_ended_and_its_tap_is_gone()
    {
        Assert.SkipWhen(NodeProbe.KernelHasNetem(), "this kernel has sch_netem (no relay to end)");
        Assert.SkipUnless(Directory.Exists(FrozenCgroup.Root), $"no cgroup v1 freezer at {FrozenCgroup.Root}");
        using var lab = new TestLab(2);
        Fault(lab, "netem", 2, "--delay", "50").Succeeded();
        var relay = LabStateStore.Load(lab.Layout).Nodes.Single(n => n.Id == 2).DelayRelayPid!.Value;
        var tap = $"/sys/class/net/{lab.Layout.Name.RelayTap(2)}";

        // A SIGKILLed process ends, and closes its tap, only when it next runs: frozen, it cannot, which makes certain
        // the window that a loaded (or quick) machine leaves to chance between the kill and the end.
        using var frozen = new FrozenCgroup($"omtest-{lab.Name}", relay);
        var cancel = TestContext.Current.CancellationToken;
        var clear = Task.Run(() => Fault(lab, "netem", 2, "--clear"), cancel);
        Poll.Until(() => (Pending(relay) & (1UL << (Signals.SIGKILL - 1))) != 0 || clear.IsCompleted, TimeSpan.FromSeconds(60),
            "--clear to kill the relay");
        // --clear that returned now would leave the tap to outlive it: it must still wait (2 s to see it does not return).
        var early = await Task.WhenAny(clear, Task.Delay(TimeSpan.FromSeconds(2), cancel));
        Assert.False(early == clear, $"--clear returned while its relay could not end: {(early == clear ? await clear : null)}");
        Assert.True(Directory.Exists(tap), "the tap went before its relay ended");

        frozen.Thaw();
        (await clear.WaitAsync(TimeSpan.FromSeconds(60), cancel)).Succeeded();
        Assert.False(Directory.Exists(tap), "the relay's tap outlived --clear");
        Assert.True(Directory.Exists($"/sys/class/net/{lab.Layout.Name.HostVeth(2)}/master"), "node 2's veth is not back on the bridge");
        Assert.Null(lab.ReadStatus().Nodes.Single(n => n.Id == 2).Netem);
    }

    /// <summary>Signals pending for the process or one of its threads (SigPnd | ShdPnd of its main thread).</summary>
    private static ulong Pending(int pid)
    {
        var status = ProcStatus.Parse(File.ReadAllText($"/proc/{pid}/status"));
        return status.SigPnd | status.ShdPnd;
    }

    /// <summary>A process held in a cgroup v1 freezer of the test's own until thawed (or disposed).</summary>
    private sealed class FrozenCgroup : IDisposable
    {
        public const string Root = "/sys/fs/cgroup/freezer";
        private readonly string _path;

        public FrozenCgroup(string name, int pid)
        {
            _path = Path.Combine(Root, name);
            Directory.CreateDirectory(_path);
            File.WriteAllText(Path.Combine(_path, "cgroup.procs"), $"{pid}");
            File.WriteAllText(Path.Combine(_path, "freezer.state"), "FROZEN");
            Poll.Until(() => FreezerState == "FROZEN", TimeSpan.FromSeconds(30), $"process {pid} to freeze");
        }

        private string FreezerState => File.ReadAllText(Path.Combine(_path, "freezer.state")).Trim();

        public void Thaw() => File.WriteAllText(Path.Combine(_path, "freezer.state"), "THAWED");

        public void Dispose()
        {
            Thaw();
            foreach (var pid in File.ReadAllLines(Path.Combine(_path, "cgroup.procs")))
            {
                try
                {
                    File.WriteAllText(Path.Combine(Root, "cgroup.procs"), pid);
                }
                catch (IOException)
                {
                    // Ended meanwhile.
                }
            }
            Poll.Until(() => File.ReadAllText(Path.Combine(_path, "cgroup.procs")).Length == 0, TimeSpan.FromSeconds(30), $"{_path} to empty");
            Directory.Delete(_path);
        }
    }

    [Fact]
    public void Loss_without_netem_drops_packets_both_ways_and_a_process_moved_across_it_ends_as_if_uninterrupted()
    {
        Assert.SkipWhen(NodeProbe.KernelHasNetem(), "this kernel has sch_netem (netem's loss is tested by the chaos bench)");
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", TakenOverCopies.UntilEnded, "50");
        run.WaitForLines(3);

        Assert.Equal("node 2: netem delay 0 ms, loss 8 % each way\n", Fault(lab, "netem", 2, "--loss", "8").Succeeded().Stdout);
        Assert.Equal(new State.NetemSettings(8, 0), lab.ReadStatus().Nodes.Single(n => n.Id == 2).Netem);

        // There and back across the lossy link; the copy's output crosses it all the while.
        lab.Migrate(1, run.Pid, "2");
        run.WaitForLines(run.Lines().Count + 5);
        lab.Migrate(1, run.Pid, "home");
        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        Assert.DoesNotContain($"process {run.Pid} lost", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);

        // Packets were dropped on each end: what the node received (host end) and what it sent (its eth0). A 16 MiB
        // move is over ten thousand packets each way: at 8 % none dropped has a chance below 1e-300.
        Assert.True(Dropped(CommandRun.Run("tc", ["-s", "qdisc", "show", "dev", lab.Layout.Name.HostVeth(2)]).Stdout) > 0, "no loss toward node 2");
        Assert.True(Dropped(lab.Exec(2, "tc", "-s", "qdisc", "show", "dev", "eth0").Succeeded().Stdout) > 0, "no loss from node 2");

        Fault(lab, "netem", 2, "--clear").Succeeded();
        Assert.DoesNotContain("htb", CommandRun.Run("tc", ["qdisc", "show", "dev", lab.Layout.Name.HostVeth(2)]).Stdout, StringComparison.Ordinal);
        Assert.Null(lab.ReadStatus().Nodes.Single(n => n.Id == 2).Netem);
    }

    /// <summary>The packets the dropping pfifo (handle 2:) of the loss filter dropped, from `tc -s qdisc show`.</summary>
    private static long Dropped(string stats)
    {
        var match = System.Text.RegularExpressions.Regex.Match(stats, @"qdisc pfifo 2: [^\n]*\n\s*Sent \d+ bytes \d+ pkt \(dropped (\d+)");
        Assert.True(match.Success, stats);
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Each_fault_refuses_a_missing_node_or_one_in_the_wrong_state_in_one_line()
    {
        using var lab = new TestLab(2);
        var prefix = $"om: lab {lab.Name}: node 2";

        Refused(Fault(lab, "kill", 3), $"om: lab {lab.Name} has no node 3 (its nodes are 1-2)");
        Refused(Fault(lab, "revive", 2), $"{prefix} is not killed; `om lab restart 2` restarts its omd");
        Refused(Fault(lab, "heal", 2), $"{prefix} is not cut off; `om lab cut 2` cuts it");
        Refused(Fault(lab, "restart", 2), $"{prefix} has no omd to restart (the lab was made with --no-daemon)");
        Fault(lab, "cut", 2).Succeeded();
        Refused(Fault(lab, "cut", 2), $"{prefix} is cut off already; `om lab heal 2` reconnects it");
        Fault(lab, "kill", 2).Succeeded();
        Refused(Fault(lab, "kill", 2), $"{prefix} is already killed; `om lab revive 2` brings it back");
        Refused(Fault(lab, "heal", 2), $"{prefix} is killed; `om lab revive 2` brings it back");
        Refused(Fault(lab, "restart", 2), $"{prefix} is killed; `om lab revive 2` brings it back");

        Assert.Equal("node 2 revived: network up, no omd (the lab was made with --no-daemon)\n", Fault(lab, "revive", 2).Succeeded().Stdout);
        Assert.True(lab.ReadStatus().Nodes.Single(n => n.Id == 2) is { Killed: false, NetworkCut: false, Revivals: 1 });
    }

    private static OmResult Fault(TestLab lab, string verb, int node, params string[] options) =>
        Om.Run(["lab", verb, "--name", lab.Name, $"{node}", .. options]);

    private static void Refused(OmResult result, string line) => Assert.Equal((1, line + "\n"), (result.ExitCode, result.Stderr));
}
