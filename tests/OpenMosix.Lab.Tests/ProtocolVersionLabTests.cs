using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A rolling upgrade (issue #17): nodes of different node protocol versions link at the highest both speak, or refuse
/// each other in one line naming both, and a process moves between them or stays running at home. One node stands for
/// an older omd by advertising an older range (omd.toml link.protocol_versions, for tests), the way a node of that
/// version would: version 6's hello, and none of version 7's messages. Each test has a lab of its own (it restarts omd).
/// </summary>
public sealed class ProtocolVersionLabTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Node <paramref name="node"/>'s omd restarted to speak <paramref name="versions"/> only, and each node seeing the other alive.</summary>
    private static void Speak(TestLab lab, int node, string versions, string described)
    {
        File.AppendAllText(lab.Layout.NodeConfigFile(node), $"[link]\nprotocol_versions = \"{versions}\"\n");
        Om.Run("lab", "restart", "--name", lab.Name, $"{node}").Succeeded();
        lab.WaitForDaemonLog(node, $"node links speak node protocol {described}", Patience);
        Assert.Matches($@"(?m)^link\.protocol_versions +""{versions}""$", lab.Exec(node, Om.Path, "mosctl", "getlink").Succeeded().Stdout);
        var other = 3 - node;
        // Both ways: the restarted omd knows nothing of the other node until gossip tells it.
        Poll.Until(() => NodeProbe.StateSeen(lab, other, node) == "alive", Patience, $"node {other} to see node {node} alive");
        Poll.Until(() => NodeProbe.StateSeen(lab, node, other) == "alive", Patience, $"node {node} to see node {other} alive");
    }

    private static string Protocol(TestLab lab, int on, int node) =>
        JsonSerializer.Deserialize(lab.Exec(on, Om.Path, "status", "--json").Succeeded().Stdout, AdminJsonContext.Default.ClusterView)!
            .Nodes.Single(n => n.Id == node).Protocol;

    [Fact]
    public void A_process_of_a_home_that_speaks_version_6_moves_to_a_newer_node_at_version_6_stops_and_goes_on_there_and_ends_as_if_uninterrupted()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        Speak(lab, 1, "6", "version 6");
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", TakenOverCopies.UntilEnded, "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        var copy = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).RemotePid;
        Assert.NotEqual(0, copy);
        lab.WaitForDaemonLog(2, "node link from node 1 at node protocol 6 (it speaks version 6)", Patience);
        lab.WaitForDaemonLog(1, "node link to node 2 at node protocol 6 (it speaks versions 6-7)", Patience);
        // `om status` on each node: its own range, and the other's as the link's hello said it.
        Assert.Equal(("6", "6-7"), (Protocol(lab, 1, 1), Protocol(lab, 1, 2)));
        Assert.Equal(("6", "6-7"), (Protocol(lab, 2, 1), Protocol(lab, 2, 2)));
        run.WaitForLines(run.Lines().Count + 3);

        // Stopped and continued on node 2: a home of version 6 knows no copy-job report, so none is sent (it would end
        // the relay there); the copy stops and goes on, and its output flows on.
        Signals.Kill(copy, Signals.SIGSTOP);
        Poll.Until(() => OpenMosix.Linux.Proc.ProcFs.ReadStat(copy).State == 'T', Patience, "the copy to stop on node 2");
        var before = run.Lines().Count;
        Signals.Kill(copy, Signals.SIGCONT);
        run.WaitForLines(before + 5);

        // Home again over a version-6 link, and the rest of the run there.
        lab.Migrate(1, run.Pid, "home");
        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        Assert.DoesNotContain("told, for its deputy", File.ReadAllText(lab.Layout.NodeDaemonLog(2)), StringComparison.Ordinal);
        var homeLog = File.ReadAllText(lab.Layout.NodeDaemonLog(1));
        Assert.DoesNotContain($"process {run.Pid}'s copy stopped", homeLog, StringComparison.Ordinal);
        Assert.DoesNotContain($"process {run.Pid} lost", homeLog, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_node_knows_every_nodes_versions_from_gossip_before_any_link_and_the_balancer_never_sends_load_to_a_node_that_cannot_speak_with_home()
    {
        // Three nodes of half a CPU: node 2 stands for a node of a version node 1 does not speak, node 3 for a current one.
        using var lab = TestLab.WithDaemons(3, "--cpus", "0.5,0.5,0.5", "--timeout", "15");
        File.AppendAllText(lab.Layout.NodeConfigFile(2), "[link]\nprotocol_versions = \"5\"\n");
        Om.Run("lab", "restart", "--name", lab.Name, "2").Succeeded();
        lab.WaitForDaemonLog(2, "node links speak node protocol version 5", Patience);

        // No process has moved, so no link was made: what `om status` shows came by gossip.
        Poll.Until(() => Protocol(lab, 1, 2) == "5" && Protocol(lab, 3, 2) == "5", Patience, "nodes 1 and 3 to learn node 2's version by gossip");
        Poll.Until(() => Protocol(lab, 2, 1) == "6-7" && Protocol(lab, 2, 3) == "6-7", Patience, "node 2 to learn nodes 1 and 3's versions by gossip");
        Assert.Equal("6-7", Protocol(lab, 1, 3));
        Assert.DoesNotContain("node link to node", File.ReadAllText(lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
        Assert.Matches(@"(?m)^ *2 .* 5 *$", lab.Exec(1, Om.Path, "status").Succeeded().Stdout);

        // Four CPU-bound jobs on node 1, whose half CPU cannot hold them: node 2 (idle, and first by id among equals)
        // is never chosen, at the start or by the balancer; node 3 takes its share.
        using var jobs = Jobs.Start(lab, 1, 4, "spinner", "120");
        Poll.Until(() => jobs.Where().Count(node => node == 3) == 2, TimeSpan.FromSeconds(90), "two jobs on node 3");
        Assert.DoesNotContain(2, jobs.Where());
        var log = File.ReadAllText(lab.Layout.NodeDaemonLog(1));
        Assert.DoesNotContain("to node 2", log, StringComparison.Ordinal);
        Assert.DoesNotContain("starts on node 2", log, StringComparison.Ordinal);
        Assert.DoesNotContain("node 2 refused", log, StringComparison.Ordinal);
    }

    [Fact]
    public void Nodes_with_no_version_in_common_refuse_the_move_in_one_line_naming_both_and_the_process_runs_on_at_home()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        Speak(lab, 2, "5", "version 5");
        using var run = lab.Managed(1, TestPrograms.Locate("sleeper"), "400", "50");
        run.WaitForLines(2);

        var refused = lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "2");
        Assert.Equal(1, refused.ExitCode);
        Assert.Single(refused.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains($"link to node 2 at {lab.Address(2)}:5725 refused: it speaks node protocol version 5, this node versions 6-7",
            refused.Stderr, StringComparison.Ordinal);
        lab.WaitForDaemonLog(2, "node 1 speaks node protocol versions 6-7, this node version 5", Patience);

        Assert.Equal(1, lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).Where);
        var printed = run.Lines().Count;
        run.WaitForLines(printed + 2);
        Assert.False(run.Process.HasExited, "the process runs on at home");
    }
}
