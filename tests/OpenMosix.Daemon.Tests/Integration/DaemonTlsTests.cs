using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>omd does not start without a usable node certificate for its own id (paths.tls_dir).</summary>
public sealed class DaemonTlsTests
{
    [Fact]
    public void The_daemon_refuses_to_start_in_one_line_without_certificates_with_a_loose_key_or_with_another_nodes_certificate()
    {
        using var cluster = new LoopbackCluster(1);
        var tls = cluster.TlsDirectory(1);
        var key = Path.Combine(tls, "node.key");

        File.SetUnixFileMode(key, (UnixFileMode)0b110_100_100);
        Assert.Equal($"om: {key} has mode 0644: group or others may read it; chmod 600 {key} (paths.tls_dir)", Refusal(cluster));

        using var other = new TestPki();
        Directory.Delete(tls, recursive: true);
        other.WriteNode(tls, 5, cluster.Address(1));
        Assert.Equal($"om: {Path.Combine(tls, "node.crt")} is for node 5, but this is node 1: " +
                     $"`om ca issue 1 --address {cluster.Address(1)}` makes one for it", Refusal(cluster));

        File.Delete(Path.Combine(tls, "ca.crt"));
        Assert.Equal($"om: no certificate at {Path.Combine(tls, "ca.crt")}: create it with `om ca` (docs/omd.md) (paths.tls_dir)", Refusal(cluster));
    }

    private static string Refusal(LoopbackCluster cluster)
    {
        var run = CommandRun.Run(OmBinary.Path, ["daemon", "--config", cluster.ConfigPath(1)]);
        Assert.Equal(1, run.ExitCode);
        return Assert.Single(run.Stderr.TrimEnd('\n').Split('\n'));
    }
}
