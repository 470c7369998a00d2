using OpenMosix.Daemon.Admin;
using OpenMosix.Daemon.Gossip;

namespace OpenMosix.Daemon.Web.Dashboard;

/// <summary>
/// What the dashboard shows and how it acts: the cluster as gossip knows it (what `GET /v1/nodes` answers), this
/// node's processes, the histories, root's token (null: nobody may move), and the admin API's routes, through which a
/// move is carried out as root with every check `om migrate` meets.
/// </summary>
public sealed class DashboardSources
{
    private static readonly PeerCredentials Root = new(Environment.ProcessId, 0, 0);

    public required Func<ClusterView> Cluster { get; init; }
    public required Func<ProcessList> Processes { get; init; }
    public required NodeHistory History { get; init; }
    public required MigrationHistory Migrations { get; init; }
    public required Func<HttpRequest, HttpResponse> Admin { get; init; }
    public DashboardToken? Token { get; init; }

    /// <summary>How often the page is sent the cluster anew on its event stream.</summary>
    public TimeSpan UpdateInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>omd's sources: its cluster state, registry and routes (as root).</summary>
    public static DashboardSources Of(ClusterState cluster, ProcessRegistry processes, AdminRoutes routes, NodeHistory history,
        MigrationHistory migrations, DashboardToken? token)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(processes);
        ArgumentNullException.ThrowIfNull(routes);
        return new DashboardSources
        {
            Cluster = () => cluster.View(DateTimeOffset.UtcNow),
            Processes = processes.List,
            History = history,
            Migrations = migrations,
            Admin = request => routes.Handle(request, Root),
            Token = token,
        };
    }

    internal DashboardSnapshot Snapshot() => new(Cluster(), Processes(), Migrations.Newest(), History.Version);
}
