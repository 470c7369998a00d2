using System.Net;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>Node links in a lab run over mutual TLS with the lab's own CA: a node certified by another CA takes no process.</summary>
public sealed class LinkSecurityLabTests
{
    [Fact]
    public void A_node_with_a_certificate_of_a_foreign_CA_cannot_take_a_migration_and_the_process_runs_on_at_home()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        // Node 2's own id and address, signed by a CA of another cluster; its omd starts with it (it trusts that CA).
        using var foreign = new TestPki();
        var tls = lab.Layout.NodeTlsDirectory(2);
        Directory.Delete(tls, recursive: true);
        foreign.WriteNode(tls, 2, IPAddress.Parse(lab.Address(2)));
        Om.Run("lab", "restart", "--name", lab.Name, "2").Succeeded();
        Poll.Until(() => NodeProbe.StateSeen(lab, 1, 2) == "alive", TimeSpan.FromSeconds(20), "node 1 to see node 2 alive");

        using var run = lab.Managed(1, TestPrograms.Locate("sleeper"), "400", "50");
        run.WaitForLines(2);
        var refused = lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "2");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"link to node 2 at {lab.Address(2)}:5725 refused: node 2: its certificate (issued by", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("is not signed by a CA this node trusts", refused.Stderr, StringComparison.Ordinal);
        lab.WaitForDaemonLog(1, "node link to node 2 failed: link to node 2 at");

        Assert.Equal(1, lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).Where);
        var printed = run.Lines().Count;
        run.WaitForLines(printed + 2);
        Assert.False(run.Process.HasExited, "the process runs on at home");
    }

    [Fact]
    public void Two_nodes_with_no_record_cipher_in_common_refuse_to_link_in_one_line_and_the_process_runs_on_at_home()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        // Names no earlier line holds: the restarted omds' own lines are the ones waited for.
        File.AppendAllText(lab.Layout.NodeConfigFile(1), "[link]\nrecord_ciphers = [\"aes-128-gcm\"]\n");
        File.AppendAllText(lab.Layout.NodeConfigFile(2), "[link]\nrecord_ciphers = [\"aegis-256\"]\n");
        Om.Run("lab", "restart", "--name", lab.Name, "1").Succeeded();
        Om.Run("lab", "restart", "--name", lab.Name, "2").Succeeded();
        lab.WaitForDaemonLog(1, "node link records offered under aes-128-gcm", TimeSpan.FromSeconds(30));
        lab.WaitForDaemonLog(2, "node link records offered under aegis-256", TimeSpan.FromSeconds(30));
        Assert.Matches(@"(?m)^link\.record_ciphers +\[""aegis-256""\]$", lab.Exec(2, Om.Path, "mosctl", "getlink").Succeeded().Stdout);
        Poll.Until(() => NodeProbe.StateSeen(lab, 1, 2) == "alive", TimeSpan.FromSeconds(30), "node 1 to see node 2 alive");

        using var run = lab.Managed(1, TestPrograms.Locate("sleeper"), "400", "50");
        run.WaitForLines(2);
        var refused = lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "2");
        Assert.Equal(1, refused.ExitCode);
        Assert.Single(refused.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains($"link to node 2 at {lab.Address(2)}:5725 refused: no record cipher in common (it offers aegis-256; this node aes-128-gcm)",
            refused.Stderr, StringComparison.Ordinal);
        lab.WaitForDaemonLog(2, "node 1: no record cipher in common (it offers aes-128-gcm; this node aegis-256)", TimeSpan.FromSeconds(30));

        Assert.Equal(1, lab.Processes(1).Processes.Single(p => p.Pid == run.Pid).Where);
        var printed = run.Lines().Count;
        run.WaitForLines(printed + 2);
        Assert.False(run.Process.HasExited, "the process runs on at home");
    }
}
