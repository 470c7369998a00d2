using System.Net;
using System.Net.Sockets;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>A real omd (the om binary) serving /metrics on the address web.listen gives it.</summary>
public sealed class DaemonMetricsTests
{
    [Fact]
    public void The_daemon_serves_metrics_of_its_cluster_view_at_web_listen()
    {
        using var cluster = new LoopbackCluster(2);
        var port = FreeTcpPort(cluster.Address(1));
        File.AppendAllText(cluster.ConfigPath(1), $"[web]\nlisten = \"{cluster.Address(1)}:{port}\"\n");
        cluster.Start(1);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var body = "";
        var url = new Uri($"http://{cluster.Address(1)}:{port}/metrics");
        Poll.Until(() => (body = TryGet(client, url)) is not null, TimeSpan.FromSeconds(15), $"omd to serve {url} (log: {cluster.Log(1)})");
        var lines = body.Split('\n');
        // Node 2 is in the map but silent: listed, down, as GET /v1/nodes lists it.
        Assert.Contains("openmosix_node_up{node=\"1\"} 1", lines);
        Assert.Contains("openmosix_node_up{node=\"2\"} 0", lines);
        Assert.Contains("openmosix_node_speed{node=\"1\"} 10000", lines);
        Assert.Contains(lines, l => l.StartsWith("openmosix_info{version=", StringComparison.Ordinal) && l.EndsWith(",node=\"1\"} 1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("process_resident_memory_bytes ", StringComparison.Ordinal));
        Assert.Contains($"web listener on http://{cluster.Address(1)}:{port} (/metrics)", cluster.Log(1), StringComparison.Ordinal);
    }

    private static string? TryGet(HttpClient client, Uri url)
    {
        try
        {
            return client.GetStringAsync(url).GetAwaiter().GetResult();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static int FreeTcpPort(IPAddress address)
    {
        using var probe = new TcpListener(address, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
