using OpenMosix.Admin;
using OpenMosix.Daemon.Admin;
using OpenMosix.Daemon.Processes;
using OpenMosix.Daemon.Web.Dashboard;
using OpenMosix.TestSupport;

namespace OpenMosix.Web.Tests;

/// <summary>
/// What a test's dashboard shows: three gossiping nodes seen from node 1, node 1's registry holding a real sleeping
/// child, the two histories, root's token, and the admin API's routes (a test may put the real ones in).
/// </summary>
internal sealed class DashboardWorld : IAsyncDisposable
{
    public GossipingNodes Nodes { get; } = new(3);
    public ProcessRegistry Registry { get; } = new(1);
    public NodeHistory History { get; } = new();
    public MigrationHistory Migrations { get; } = new();
    public DashboardToken Token { get; } = DashboardToken.Random();
    public ChildProcess Child { get; } = ChildProcess.Start("/bin/sleep", ["60"]);

    /// <summary>The admin API as the dashboard calls it; by default a route that refuses every request.</summary>
    public Func<HttpRequest, HttpResponse> Admin { get; set; } = request => HttpResponse.Error(503, $"no admin API in this test ({request.Path})");

    public DashboardServer? Server { get; private set; }

    public string Url => Server?.Url ?? throw new InvalidOperationException("not started");

    public async Task<DashboardWorld> StartAsync()
    {
        Server = await DashboardServer.StartAsync(new DashboardSources
        {
            Cluster = Nodes.View,
            Processes = Registry.List,
            History = History,
            Migrations = Migrations,
            Admin = request => Admin(request),
            Token = Token,
            UpdateInterval = TimeSpan.FromMilliseconds(200),
        });
        return this;
    }

    public ManagedProcess RegisterChild() => Registry.Register(Child.Pid, 0);

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        Child.Dispose();
    }
}
