using OpenMosix.Daemon.Web.Metrics;

namespace OpenMosix.Daemon.Web;

/// <summary>
/// What the web listener's pages read, each the same object the admin API answers from: the cluster view of
/// GET /v1/nodes, the process registry, the gossip counters and the migration counters.
/// </summary>
public sealed record WebSources(
    Func<ClusterView> Cluster,
    ProcessRegistry Processes,
    Func<GossipStats> Gossip,
    MigrationCounters Migrations,
    DateTimeOffset StartedAt);
