using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace OpenMosix.Daemon.Web;

/// <summary>
/// omd's web listener (web.listen): Kestrel serving /metrics and the dashboard. Plain HTTP on a loopback address;
/// anywhere else TLS with this node's cluster certificate. It starts after omd is ready and never stops omd: an
/// address it cannot bind (a port in use, an address not on this machine) is one warning, and omd runs on without
/// it, since every other service of omd stands on its own. Built on an empty WebApplication builder: omd takes its
/// settings from omd.toml only, never from appsettings.json or ASPNETCORE_* variables, and owns its signals.
/// </summary>
public sealed partial class WebListener(IPEndPoint endpoint, X509Certificate2? certificate, ILoggerFactory loggers,
    Action<IEndpointRouteBuilder> map)
{
    private readonly ILogger _logger = loggers.CreateLogger("web");
    private readonly TaskCompletionSource<IPEndPoint?> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Whether an address is served over TLS: every one but loopback.</summary>
    public static bool UsesTls(IPAddress address) => !IPAddress.IsLoopback(address);

    /// <summary>Where it listens once started (the kernel's port for port 0), or null when it could not.</summary>
    public Task<IPEndPoint?> Bound => _bound.Task;

    public async Task RunAsync(CancellationToken cancel)
    {
        var scheme = UsesTls(endpoint.Address) ? "https" : "http";
        if (scheme == "https" && certificate is null)
        {
            LogOff(_logger, endpoint.ToString(), "TLS needs this node's certificate (paths.tls_dir)");
            _bound.TrySetResult(null);
            return;
        }
        var app = Build();
        try
        {
            try
            {
                await app.StartAsync(cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogOff(_logger, endpoint.ToString(), Innermost(e));
                _bound.TrySetResult(null);
                return;
            }
            var bound = BoundEndpoint(app);
            LogListening(_logger, $"{scheme}://{bound}");
            _bound.TrySetResult(bound);
            await Task.Delay(Timeout.Infinite, cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
        }
        finally
        {
            _bound.TrySetResult(null);
            using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
                await app.StopAsync(stopping.Token).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private WebApplication Build()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "omd" });
        builder.Services.AddLogging();
        builder.Services.AddSingleton<ILoggerFactory>(new QuietLoggerFactory(loggers));
        builder.Services.AddSingleton<IHostLifetime, OmdOwnsSignals>();
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            WebLimits.Apply(options.Limits);
            options.Listen(endpoint, listen =>
            {
                if (UsesTls(endpoint.Address))
                    listen.UseHttps(https =>
                    {
                        https.ServerCertificate = certificate;
                        https.SslProtocols = SslProtocols.Tls13;
                    });
            });
        });
        var app = builder.Build();
        app.UseRouting();
        map(app);
        return app;
    }

    private static IPEndPoint BoundEndpoint(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        return address is not null && Uri.TryCreate(address, UriKind.Absolute, out var uri) && IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip)
            ? new IPEndPoint(ip, uri.Port)
            : throw new InvalidOperationException($"Kestrel reports no address it listens on ({address})");
    }

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message.ReplaceLineEndings(" ");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "web listener on {Url} (/metrics)")]
    private static partial void LogListening(ILogger logger, string url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "web listener off: cannot listen on {Endpoint} (web.listen): {Reason}; omd runs on without /metrics")]
    private static partial void LogOff(ILogger logger, string endpoint, string reason);

    /// <summary>omd handles SIGTERM and SIGINT itself (DaemonCommand) and stops the listener with the rest.</summary>
    private sealed class OmdOwnsSignals : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
