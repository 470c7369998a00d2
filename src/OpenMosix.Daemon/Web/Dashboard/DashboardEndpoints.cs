using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace OpenMosix.Daemon.Web.Dashboard;

/// <summary>
/// The web dashboard, openMosixview's successor: the page at /, its script and style, and its JSON under /api
/// (cluster, procs, history, migrations, snapshot, session, an event stream, and root's drag-and-drop moves).
/// Reading is open to whoever reaches the listener by this machine's address or name (<see cref="HostCheck"/>);
/// moving needs root's token (<see cref="DashboardToken"/>).
/// </summary>
public static class DashboardEndpoints
{
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder endpoints, DashboardSources sources)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(sources);
        var json = DashboardJsonContext.Default;
        DashboardAssets.Map(endpoints);
        endpoints.MapGet("/api/cluster", HostCheck.Guard(context => Json(context, sources.Cluster(), json.ClusterView)));
        endpoints.MapGet("/api/procs", HostCheck.Guard(context => Json(context, sources.Processes(), json.ProcessList)));
        endpoints.MapGet("/api/history", HostCheck.Guard(context => Json(context, sources.History.View(), json.HistoryView)));
        endpoints.MapGet("/api/migrations", HostCheck.Guard(context => Json(context, new MigrationList(sources.Migrations.Newest()), json.MigrationList)));
        endpoints.MapGet("/api/snapshot", HostCheck.Guard(context => Json(context, sources.Snapshot(), json.DashboardSnapshot)));
        endpoints.MapGet("/api/session", HostCheck.Guard(context =>
            Json(context, new DashboardSession(sources.Token?.Accepts(context.Request.Headers.Authorization) == true), json.DashboardSession)));
        endpoints.MapGet("/api/events", HostCheck.Guard(context => StreamAsync(context, sources)));
        endpoints.MapPost("/api/procs/{pid}/migrate", HostCheck.Guard(context => MoveRoute.HandleAsync(context, sources)));
        return endpoints;
    }

    internal static Task Json<T>(HttpContext context, T value, JsonTypeInfo<T> type, int status = StatusCodes.Status200OK)
    {
        DashboardAssets.Secure(context.Response);
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(value, type, "application/json; charset=utf-8", context.RequestAborted);
    }

    /// <summary>Server-sent events: the snapshot at once and then every <see cref="DashboardSources.UpdateInterval"/>,
    /// until the page goes or omd stops (a stream left open must not hold up omd's shutdown).</summary>
    private static async Task StreamAsync(HttpContext context, DashboardSources sources)
    {
        var response = context.Response;
        DashboardAssets.Secure(response);
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var stopping = context.RequestServices.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        using var end = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        try
        {
            while (!end.IsCancellationRequested)
            {
                var data = JsonSerializer.Serialize(sources.Snapshot(), DashboardJsonContext.Default.DashboardSnapshot);
                await response.WriteAsync($"event: snapshot\ndata: {data}\n\n", end.Token).ConfigureAwait(false);
                await response.Body.FlushAsync(end.Token).ConfigureAwait(false);
                await Task.Delay(sources.UpdateInterval, end.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (end.IsCancellationRequested)
        {
        }
    }
}
