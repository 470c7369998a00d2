using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OpenMosix.Daemon.Web.Metrics;

namespace OpenMosix.Daemon.Web;

/// <summary>Every route of the web listener, in one place: the dashboard joins here with one line.</summary>
public static class WebEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints, WebSources sources)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // A RequestDelegate, not a lambda for the Delegate overload: that one builds its binder by reflection.
        RequestDelegate metrics = context =>
        {
            context.Response.ContentType = ExpositionWriter.ContentType;
            context.Response.Headers.CacheControl = "no-store";
            return context.Response.WriteAsync(MetricsPage.Render(sources), context.RequestAborted);
        };
        endpoints.MapGet("/metrics", metrics);
    }
}
