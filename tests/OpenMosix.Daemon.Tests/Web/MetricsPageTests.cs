using System.Text.RegularExpressions;
using OpenMosix.Admin;
using OpenMosix.Daemon.Processes;
using OpenMosix.Daemon.Web;
using OpenMosix.Daemon.Web.Metrics;

namespace OpenMosix.Daemon.Tests.Web;

public sealed partial class MetricsPageTests
{
    internal static NodeRow Node(int id, NodeLiveness state, double load) =>
        new(id, $"10.77.1.{id}", state, load, 6000 + id, id, 3000, 1L << 30, 1L << 29, 0.1, [], 0, id == 1);

    internal static WebSources Sources(MigrationCounters? migrations = null, GossipStats? gossip = null) => new(
        () => new ClusterView(1, "10.77.1.1", "map", [Node(1, NodeLiveness.Alive, 0.5), Node(2, NodeLiveness.Alive, 1.25), Node(3, NodeLiveness.Dead, 0)]),
        new ProcessRegistry(1, _ => null),
        () => gossip ?? new GossipStats(10, 8, 1000, 800, new Dictionary<string, long>(), 4000, 10000),
        migrations ?? new MigrationCounters(),
        DateTimeOffset.UnixEpoch.AddSeconds(1_700_000_000));

    private static string[] Lines(WebSources sources) => MetricsPage.Render(sources).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Every_node_of_the_cluster_view_has_its_figures()
    {
        var lines = Lines(Sources());
        Assert.Contains("openmosix_node_load{node=\"1\"} 0.5", lines);
        Assert.Contains("openmosix_node_load{node=\"2\"} 1.25", lines);
        Assert.Contains("openmosix_node_load{node=\"3\"} 0", lines);
        Assert.Contains("openmosix_node_up{node=\"2\"} 1", lines);
        Assert.Contains("openmosix_node_up{node=\"3\"} 0", lines);
        Assert.Contains("openmosix_node_speed{node=\"3\"} 6003", lines);
        Assert.Contains("openmosix_node_cpus{node=\"2\"} 2", lines);
        Assert.Contains("openmosix_node_memory_total_bytes{node=\"1\"} 1073741824", lines);
        Assert.Contains("openmosix_node_memory_free_bytes{node=\"1\"} 536870912", lines);
        Assert.Contains(lines, l => l.StartsWith("openmosix_info{version=\"", StringComparison.Ordinal) && l.EndsWith("\",node=\"1\"} 1", StringComparison.Ordinal));
    }

    [Fact]
    public void Migrations_are_listed_by_direction_and_result_with_their_freeze_times()
    {
        var migrations = new MigrationCounters();
        migrations.Moved(MigrationDirection.Out, TimeSpan.FromMilliseconds(70));
        migrations.Count(MigrationDirection.In, MigrationOutcome.Refused);
        var lines = Lines(Sources(migrations));
        Assert.Contains("openmosix_migrations_total{direction=\"out\",result=\"moved\"} 1", lines);
        Assert.Contains("openmosix_migrations_total{direction=\"in\",result=\"refused\"} 1", lines);
        Assert.Contains("openmosix_migrations_total{direction=\"home\",result=\"failed\"} 0", lines);
        Assert.Equal(9, lines.Count(l => l.StartsWith("openmosix_migrations_total{", StringComparison.Ordinal)));
        Assert.Contains("openmosix_migration_freeze_seconds_bucket{le=\"0.05\"} 0", lines);
        Assert.Contains("openmosix_migration_freeze_seconds_bucket{le=\"0.1\"} 1", lines);
        Assert.Contains("openmosix_migration_freeze_seconds_bucket{le=\"+Inf\"} 1", lines);
        Assert.Contains("openmosix_migration_freeze_seconds_sum 0.07", lines);
        Assert.Contains("openmosix_migration_freeze_seconds_count 1", lines);
    }

    [Fact]
    public void Gossip_packets_dropped_whole_are_told_from_entries_dropped_from_accepted_packets()
    {
        var rejected = new Dictionary<string, long> { ["bad-mac"] = 2, ["not-in-cluster"] = 1, ["unknown-origin"] = 5 };
        var lines = Lines(Sources(gossip: new GossipStats(10, 8, 1000, 800, rejected, 4000, 10000)));
        Assert.Contains("openmosix_gossip_packets_total{direction=\"out\",result=\"sent\"} 10", lines);
        Assert.Contains("openmosix_gossip_packets_total{direction=\"in\",result=\"bad-mac\"} 2", lines);
        Assert.Contains("openmosix_gossip_packets_total{direction=\"in\",result=\"not-in-cluster\"} 1", lines);
        Assert.Contains("openmosix_gossip_packets_total{direction=\"in\",result=\"accepted\"} 5", lines);
        Assert.Contains("openmosix_gossip_entries_rejected_total{reason=\"unknown-origin\"} 5", lines);
        Assert.DoesNotContain(lines, l => l.Contains("result=\"unknown-origin\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Processes_are_counted_by_state_and_omd_reports_its_own_process()
    {
        var lines = Lines(Sources());
        Assert.Contains("openmosix_processes{state=\"home\"} 0", lines);
        Assert.Contains("openmosix_processes{state=\"away\"} 0", lines);
        Assert.Contains("openmosix_processes{state=\"guest\"} 0", lines);
        Assert.Contains("process_start_time_seconds 1700000000", lines);
        Assert.Contains(lines, l => l.StartsWith("process_resident_memory_bytes ", StringComparison.Ordinal) && !l.EndsWith(" 0", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("process_open_fds ", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_sample_belongs_to_a_family_typed_before_it_and_has_the_format_s_syntax()
    {
        var typed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in Lines(Sources()))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                Assert.True(typed.Add(line.Split(' ')[2]), $"family typed twice: {line}");
                continue;
            }
            if (line.StartsWith('#')) continue;
            var sample = SampleLine().Match(line);
            Assert.True(sample.Success, $"not a sample line: {line}");
            var name = sample.Groups["name"].Value;
            Assert.True(typed.Contains(name) || typed.Any(f => name.StartsWith(f + "_", StringComparison.Ordinal)), $"{name} has no # TYPE before it");
        }
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? (-?[0-9.E+]+|[+-]Inf|NaN)$""")]
    private static partial Regex SampleLine();
}
