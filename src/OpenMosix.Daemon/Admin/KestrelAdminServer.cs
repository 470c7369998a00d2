using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OpenMosix.Linux;

namespace OpenMosix.Daemon.Admin;

/// <summary>PROTOTYPE: the admin API served by Kestrel on the unix socket, for measurement against AdminServer.</summary>
#pragma warning disable CA1848 // prototype
public sealed class KestrelAdminServer(string socketPath, AdminRoutes routes, ILogger logger) : IDisposable
{
    private WebApplication? _app;

    public void Bind()
    {
        var directory = Path.GetDirectoryName(socketPath);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        if (File.Exists(socketPath)) File.Delete(socketPath);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.ListenUnixSocket(socketPath);
            k.Limits.MaxRequestBodySize = HttpRequestReader.MaxBodyBytes;
            k.Limits.MaxRequestHeadersTotalSize = HttpRequestReader.MaxHeadBytes;
            k.Limits.MaxConcurrentConnections = 64;
        });
        var app = builder.Build();
        app.Run(ServeAsync);
        app.StartAsync().GetAwaiter().GetResult();
        File.SetUnixFileMode(socketPath, (UnixFileMode)0b110_110_110);
        _app = app;
        logger.LogInformation("admin API listening on {Path} (Kestrel)", socketPath);
    }

    public async Task RunAsync(CancellationToken cancel)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        if (_app is not null) await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public void Dispose()
    {
        (_app as IDisposable)?.Dispose();
        try
        {
            File.Delete(socketPath);
        }
        catch (IOException)
        {
        }
    }

    private async Task ServeAsync(HttpContext context)
    {
        var socket = context.Features.Get<IConnectionSocketFeature>()!.Socket;
        var caller = PeerCredentials.Of(socket);
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body).ConfigureAwait(false);
        var request = new HttpRequest(context.Request.Method, context.Request.Path.Value ?? "/", body.ToArray());
        var response = await Migration.Blocking.Run(() => routes.Handle(request, caller)).ConfigureAwait(false);
        context.Response.StatusCode = response.Status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = response.Body.Length;
        await context.Response.Body.WriteAsync(response.Body).ConfigureAwait(false);
    }
}
