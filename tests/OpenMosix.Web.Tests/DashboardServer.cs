using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using OpenMosix.Daemon.Web.Dashboard;

namespace OpenMosix.Web.Tests;

/// <summary>The dashboard in a real Kestrel on 127.0.0.1, on a port of the kernel's choosing.</summary>
internal sealed class DashboardServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DashboardServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    public static async Task<DashboardServer> StartAsync(DashboardSources sources)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapDashboard(sources);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new DashboardServer(app, app.Urls.Single());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
