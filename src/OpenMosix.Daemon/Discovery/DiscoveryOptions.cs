using System.Net;

namespace OpenMosix.Daemon.Discovery;

/// <summary>How omdiscd announces: on which interfaces, to which group and port, how often, how far (TTL).</summary>
public sealed record DiscoveryOptions(
    IReadOnlyList<string> Interfaces,
    IPAddress Group,
    int Port,
    int Ttl,
    TimeSpan Interval,
    TimeSpan ForgetAfter);
