using System.Text.Json;
using Microsoft.AspNetCore.Http;
using AdminRequest = OpenMosix.Daemon.Admin.HttpRequest;

namespace OpenMosix.Daemon.Web.Dashboard;

/// <summary>
/// POST /api/procs/{pid}/migrate {"node": N}: migmon's drag and drop. Only from the dashboard's own page (a request
/// another site's page makes is refused by its Origin, its Sec-Fetch-Site or its content type), only with root's
/// token, and carried out by the admin API's own migrate route as root, so it meets every check `om migrate` does.
/// The answer is that route's: the move's figures, or {"error": ...} with its status.
/// </summary>
internal static class MoveRoute
{
    private const int MaxBody = 1024;

    public static async Task HandleAsync(HttpContext context, DashboardSources sources)
    {
        var request = context.Request;
        if (CrossSite(request) is { } why)
        {
            await Error(context, StatusCodes.Status403Forbidden, why).ConfigureAwait(false);
            return;
        }
        if (!request.HasJsonContentType())
        {
            await Error(context, StatusCodes.Status415UnsupportedMediaType, "send the move as application/json").ConfigureAwait(false);
            return;
        }
        if (sources.Token?.Accepts(request.Headers.Authorization) != true)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Error(context, StatusCodes.Status401Unauthorized,
                "moving needs root's dashboard token: open the URL `om dashboard` prints").ConfigureAwait(false);
            return;
        }
        var pidText = request.RouteValues["pid"] as string ?? "";
        if (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
        {
            await Error(context, StatusCodes.Status400BadRequest, $"'{pidText}' is not a PID").ConfigureAwait(false);
            return;
        }
        if (await ReadOrderAsync(context) is not { } order) return;

        var body = JsonSerializer.SerializeToUtf8Bytes(new MigrateRequest(order.Node.ToString(CultureInfo.InvariantCulture)),
            AdminJsonContext.Default.MigrateRequest);
        // The admin route blocks until the move ends (seconds for a large process): not on a request thread.
        var answer = await Task.Run(() => sources.Admin(new AdminRequest("POST", $"/v1/procs/{pid}/migrate", body))).ConfigureAwait(false);
        DashboardAssets.Secure(context.Response);
        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.Body.WriteAsync(answer.Body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Why a request comes from another site's page, or null when it is the dashboard's own (or no browser's).</summary>
    private static string? CrossSite(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none"))
            return $"moves are taken only from the dashboard's own page (this request is {site})";
        var origin = request.Headers.Origin.ToString();
        var own = $"{request.Scheme}://{request.Host}";
        return origin.Length > 0 && !string.Equals(origin, own, StringComparison.OrdinalIgnoreCase)
            ? $"moves are taken only from the dashboard's own page ({own}), not from {origin}"
            : null;
    }

    private static async Task<MoveOrder?> ReadOrderAsync(HttpContext context)
    {
        // Read with a bound whatever Content-Length says (a chunked body has none).
        var buffer = new byte[MaxBody + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await context.Request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted).ConfigureAwait(false)) > 0)
            length += read;
        if (length > MaxBody)
        {
            await Error(context, StatusCodes.Status413PayloadTooLarge, $"a move order is at most {MaxBody} bytes").ConfigureAwait(false);
            return null;
        }
        try
        {
            if (JsonSerializer.Deserialize(buffer.AsSpan(0, length), DashboardJsonContext.Default.MoveOrder) is { Node: >= 1 and <= ushort.MaxValue } order)
                return order;
        }
        catch (JsonException)
        {
        }
        await Error(context, StatusCodes.Status400BadRequest, "send {\"node\": N} with N a node id (1-65535)").ConfigureAwait(false);
        return null;
    }

    private static Task Error(HttpContext context, int status, string message) =>
        DashboardEndpoints.Json(context, new ErrorReply(message), DashboardJsonContext.Default.ErrorReply, status);
}
