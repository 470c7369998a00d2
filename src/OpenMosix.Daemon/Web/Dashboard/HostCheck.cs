using System.Net;
using Microsoft.AspNetCore.Http;

namespace OpenMosix.Daemon.Web.Dashboard;

/// <summary>
/// Answers only requests addressed to this machine by an IP address, localhost or its own host name. A page of
/// another site whose name was pointed at 127.0.0.1 (DNS rebinding) addresses it by that name: it gets 421 and so
/// cannot read the cluster, the processes' command lines or anything else off the dashboard.
/// </summary>
internal static class HostCheck
{
    public static RequestDelegate Guard(RequestDelegate next) => context =>
        Allows(context.Request.Host.Host)
            ? next(context)
            : DashboardEndpoints.Json(context, new OpenMosix.Admin.ErrorReply($"this dashboard is not '{context.Request.Host.Host}': address it by IP or by this machine's name"),
                DashboardJsonContext.Default.ErrorReply, StatusCodes.Status421MisdirectedRequest);

    public static bool Allows(string host) =>
        IPAddress.TryParse(host, out _)
        || string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || string.Equals(host, Environment.MachineName, StringComparison.OrdinalIgnoreCase)
        || host.StartsWith(Environment.MachineName + ".", StringComparison.OrdinalIgnoreCase);
}
