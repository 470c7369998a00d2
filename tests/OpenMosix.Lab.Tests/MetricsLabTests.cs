using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Issue #18's acceptance for /metrics: in a 3-node lab, a scrape of node 1's web listener at its default address,
/// from inside node 1, has every node's load, and counts a migration once one has happened.
/// </summary>
public sealed class MetricsLabTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void Metrics_inside_node_1_show_every_nodes_load_and_count_a_migration()
    {
        using var lab = TestLab.WithDaemons(3, "--timeout", "15", "--no-balance");
        string Scrape() => lab.Exec(1, "curl", "-s", "--max-time", "5", "127.0.0.1:5726/metrics").Succeeded().Stdout;

        var lines = Array.Empty<string>();
        Poll.Until(() => (lines = Scrape().Split('\n')).Count(l => l.StartsWith("openmosix_node_up{", StringComparison.Ordinal) && l.EndsWith("} 1", StringComparison.Ordinal)) == 3,
            Patience, "node 1's /metrics to show nodes 1, 2 and 3 up");
        foreach (var node in new[] { 1, 2, 3 })
            Assert.Contains(lines, l => l.StartsWith($"openmosix_node_load{{node=\"{node}\"}} ", StringComparison.Ordinal));
        Assert.Contains("openmosix_migrations_total{direction=\"out\",result=\"moved\"} 0", lines);

        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", "6000", "50");
        run.WaitForLines(2); // running its own program, its start-up descriptors closed
        lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "2").Succeeded();
        lines = Scrape().Split('\n');
        Assert.Contains("openmosix_migrations_total{direction=\"out\",result=\"moved\"} 1", lines);
        Assert.Contains("openmosix_migration_freeze_seconds_count 1", lines);
        Assert.Contains("openmosix_processes{state=\"away\"} 1", lines);
        // Node 2 counted the arrival of its guest.
        Poll.Until(() => lab.Exec(2, "curl", "-s", "--max-time", "5", "127.0.0.1:5726/metrics").Succeeded().Stdout
                .Contains("openmosix_migrations_total{direction=\"in\",result=\"moved\"} 1\n", StringComparison.Ordinal),
            Patience, "node 2's /metrics to count the guest that arrived");
    }
}
