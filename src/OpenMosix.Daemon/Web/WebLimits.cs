using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace OpenMosix.Daemon.Web;

/// <summary>
/// What the web listener lets clients take of omd, in the spirit of the admin socket's limits (docs/omd.md): few
/// connections, small requests, headers sent promptly. Scrapers and a few browsers need no more.
/// </summary>
public static class WebLimits
{
    public const int Connections = 64;
    public const int UpgradedConnections = 16;
    public const long RequestBodyBytes = 64 * 1024;
    public const int HeaderBytes = 16 * 1024;
    public const int HeaderCount = 64;
    public const int RequestLineBytes = 8 * 1024;
    public static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(30);

    public static void Apply(KestrelServerLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.MaxConcurrentConnections = Connections;
        limits.MaxConcurrentUpgradedConnections = UpgradedConnections;
        limits.MaxRequestBodySize = RequestBodyBytes;
        limits.MaxRequestHeadersTotalSize = HeaderBytes;
        limits.MaxRequestHeaderCount = HeaderCount;
        limits.MaxRequestLineSize = RequestLineBytes;
        limits.RequestHeadersTimeout = HeadersTimeout;
        limits.KeepAliveTimeout = KeepAlive;
        limits.Http2.MaxStreamsPerConnection = 32;
    }
}
