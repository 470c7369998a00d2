using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace OpenMosix.Daemon.Web.Dashboard;

/// <summary>
/// The page, its script and its style, embedded in the assembly (no files to install, nothing fetched from elsewhere),
/// served with their content types and a Content-Security-Policy that lets the page load only these and talk only to
/// this listener: no inline script or style, no other origin, no framing.
/// </summary>
internal static class DashboardAssets
{
    public const string Policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly (string Route, string Resource, string Type)[] Files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"),
        ("/dashboard.css", "dashboard.css", "text/css; charset=utf-8"),
    ];

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        foreach (var (route, resource, type) in Files)
        {
            var bytes = Read(resource);
            endpoints.MapGet(route, HostCheck.Guard(context =>
            {
                Secure(context.Response);
                context.Response.ContentType = type;
                context.Response.Headers.CacheControl = "no-cache";
                context.Response.ContentLength = bytes.Length;
                return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
            }));
        }
    }

    /// <summary>The headers every dashboard answer carries.</summary>
    public static void Secure(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = Policy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
    }

    private static byte[] Read(string name)
    {
        using var stream = typeof(DashboardAssets).Assembly.GetManifestResourceStream($"dashboard/{name}")
            ?? throw new InvalidOperationException($"the dashboard's {name} is not embedded in omd");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
