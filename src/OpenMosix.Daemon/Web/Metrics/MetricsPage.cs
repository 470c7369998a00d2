using System.Reflection;
using System.Text;
using OpenMosix.Cluster.Gossip;

namespace OpenMosix.Daemon.Web.Metrics;

/// <summary>
/// The /metrics page: every node this omd knows (the rows of GET /v1/nodes), its processes by state, its migrations
/// and gossip packets, and omd's own process figures. Read at each scrape; nothing is kept between scrapes.
/// </summary>
public static class MetricsPage
{
    /// <summary>The gossip reasons that drop one entry of a packet rather than the packet (<see cref="RejectReason"/>).</summary>
    private static readonly string[] EntryReasons =
        [.. Enum.GetValues<RejectReason>().Where(r => r >= RejectReason.UnknownOrigin).Select(r => r.ToString())];

    public static readonly string Version =
        typeof(MetricsPage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static string Render(WebSources sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var text = new StringBuilder(8192);
        var writer = new ExpositionWriter(text);
        var view = sources.Cluster();
        Info(writer, view);
        Nodes(writer, view);
        Processes(writer, sources);
        Migrations(writer, sources.Migrations);
        Gossip(writer, sources.Gossip());
        OwnProcessMetrics.Write(writer, sources.StartedAt);
        return text.ToString();
    }

    private static void Info(ExpositionWriter writer, ClusterView view)
    {
        writer.Family("openmosix_info", "gauge", "This omd: its version and node id (always 1).");
        writer.Sample("openmosix_info", 1, ("version", Version), ("node", Id(view.Self)));
    }

    private static void Nodes(ExpositionWriter writer, ClusterView view)
    {
        NodeGauge(writer, view, "openmosix_node_up", "1 when the node is alive (heard from within gossip.suspect_after_ms), else 0.",
            n => n.State == NodeLiveness.Alive ? 1 : 0);
        NodeGauge(writer, view, "openmosix_node_load", "The node's load as gossiped (normalised as in om status).", n => n.Load);
        NodeGauge(writer, view, "openmosix_node_speed", "The node's speed (calibrated or speed.override).", n => n.Speed);
        NodeGauge(writer, view, "openmosix_node_cpus", "The node's CPUs.", n => n.Cpus);
        NodeGauge(writer, view, "openmosix_node_memory_total_bytes", "The node's memory (its cgroup's limit when it has one).", n => n.TotalMemory);
        NodeGauge(writer, view, "openmosix_node_memory_free_bytes", "The node's free memory.", n => n.FreeMemory);
    }

    private static void NodeGauge(ExpositionWriter writer, ClusterView view, string name, string help, Func<NodeRow, double> value)
    {
        writer.Family(name, "gauge", help);
        foreach (var node in view.Nodes)
            writer.Sample(name, value(node), ("node", Id(node.Id)));
    }

    private static void Processes(ExpositionWriter writer, WebSources sources)
    {
        writer.Family("openmosix_processes", "gauge",
            "Managed processes of this node: home (its own, running here), away (its own, running elsewhere), guest (other nodes', running here).");
        writer.Sample("openmosix_processes", sources.Processes.RunningAtHome().Count, ("state", "home"));
        writer.Sample("openmosix_processes", sources.Processes.Away().Count, ("state", "away"));
        writer.Sample("openmosix_processes", sources.Processes.Guests().Count, ("state", "guest"));
    }

    private static void Migrations(ExpositionWriter writer, MigrationCounters counters)
    {
        writer.Family("openmosix_migrations_total", "counter",
            "Migrations since omd started, by direction (out: this node's process to another node; home: back home; in: a guest arriving) and result.");
        foreach (var direction in Enum.GetValues<MigrationDirection>())
            foreach (var outcome in Enum.GetValues<MigrationOutcome>())
                writer.Sample("openmosix_migrations_total", counters[direction, outcome],
                    ("direction", MigrationCounters.Label(direction)), ("result", MigrationCounters.Label(outcome)));
        var (counts, sum) = counters.Freeze.Snapshot();
        writer.Histogram("openmosix_migration_freeze_seconds",
            "How long each move of this node's processes (out, and home again) kept the process frozen.", FreezeHistogram.Bounds, counts, sum);
    }

    private static void Gossip(ExpositionWriter writer, GossipStats stats)
    {
        const string Packets = "openmosix_gossip_packets_total";
        writer.Family(Packets, "counter", "Gossip datagrams: out (sent), in (accepted, or the reason it was dropped).");
        writer.Sample(Packets, stats.PacketsSent, ("direction", "out"), ("result", "sent"));
        var dropped = 0L;
        var entries = new List<(string Reason, long Count)>();
        foreach (var (reason, count) in stats.Rejected)
        {
            if (EntryReasons.Contains(reason.Replace("-", "", StringComparison.Ordinal), StringComparer.OrdinalIgnoreCase))
            {
                entries.Add((reason, count));
                continue;
            }
            dropped += count;
            writer.Sample(Packets, count, ("direction", "in"), ("result", reason));
        }
        writer.Sample(Packets, stats.PacketsReceived - dropped, ("direction", "in"), ("result", "accepted"));
        writer.Family("openmosix_gossip_bytes_total", "counter", "Gossip bytes sent (out) and received (in).");
        writer.Sample("openmosix_gossip_bytes_total", stats.BytesSent, ("direction", "out"));
        writer.Sample("openmosix_gossip_bytes_total", stats.BytesReceived, ("direction", "in"));
        writer.Family("openmosix_gossip_entries_rejected_total", "counter",
            "Entries dropped from accepted gossip packets (the rest of the packet was taken), by reason.");
        foreach (var (reason, count) in entries)
            writer.Sample("openmosix_gossip_entries_rejected_total", count, ("reason", reason));
    }

    private static string Id(int node) => node.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
