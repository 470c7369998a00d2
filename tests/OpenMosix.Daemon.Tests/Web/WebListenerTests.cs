using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using OpenMosix.Daemon.Web;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Web;

/// <summary>The web listener on real sockets of this machine's loopback, as a scraper or a browser meets it.</summary>
public sealed class WebListenerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private sealed class Running : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        public readonly ConcurrentQueue<string> Log = new();
        public readonly Task Run;
        public readonly WebListener Listener;

        public Running(IPEndPoint at, X509Certificate2? certificate = null)
        {
            Listener = new WebListener(at, certificate, new TestOutputLoggerFactory(Log.Enqueue),
                routes => WebEndpoints.Map(routes, MetricsPageTests.Sources()));
            Run = Task.Run(() => Listener.RunAsync(_stop.Token));
        }

        public async Task<IPEndPoint?> BoundAsync() => await Listener.Bound.WaitAsync(Patience);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Run.WaitAsync(Patience);
            _stop.Dispose();
        }
    }

    [Fact]
    public async Task Metrics_are_scraped_over_a_real_socket_in_the_exposition_format()
    {
        await using var web = new Running(new IPEndPoint(IPAddress.Loopback, 0));
        var at = Assert.IsType<IPEndPoint>(await web.BoundAsync());
        Assert.NotEqual(0, at.Port);
        using var client = new HttpClient { Timeout = Patience };
        using var answer = await client.GetAsync(new Uri($"http://{at}/metrics"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", answer.Content.Headers.ContentType?.ToString());
        var body = await answer.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("openmosix_node_load{node=\"2\"} 1.25\n", body, StringComparison.Ordinal);
        Assert.Contains("# TYPE openmosix_migrations_total counter\n", body, StringComparison.Ordinal);
        // Quiet: a scrape is not worth a line of omd's log; only the one line that says where it listens.
        Assert.Equal([$"Information web: web listener on http://{at} (/metrics)"], web.Log);
    }

    [Fact]
    public async Task A_path_it_does_not_serve_is_404_and_an_oversized_request_head_is_refused()
    {
        await using var web = new Running(new IPEndPoint(IPAddress.Loopback, 0));
        var at = Assert.IsType<IPEndPoint>(await web.BoundAsync());
        using var client = new HttpClient { Timeout = Patience };
        using var missing = await client.GetAsync(new Uri($"http://{at}/nothing"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var huge = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{at}/metrics"));
        huge.Headers.Add("X-Padding", new string('x', WebLimits.HeaderBytes + 1));
        using var refused = await client.SendAsync(huge, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, refused.StatusCode);
    }

    [Fact]
    public async Task A_port_in_use_is_one_warning_and_the_listener_ends_without_taking_omd_down()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var taken = (IPEndPoint)squatter.LocalEndpoint;
        await using var web = new Running(taken);
        Assert.Null(await web.BoundAsync());
        await web.Run.WaitAsync(Patience, TestContext.Current.CancellationToken); // ended by itself, without an exception
        var line = Assert.Single(web.Log);
        Assert.StartsWith($"Warning     web: web listener off: cannot listen on {taken} (web.listen): ", line, StringComparison.Ordinal);
        Assert.EndsWith("; omd runs on without /metrics", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Off_loopback_it_serves_tls_with_the_node_certificate_and_never_plain_http()
    {
        using var pki = new TestPki();
        using var node = pki.Node(1, IPAddress.Loopback);
        await using var web = new Running(new IPEndPoint(IPAddress.Any, 0), node.Certificate);
        var at = Assert.IsType<IPEndPoint>(await web.BoundAsync());
        X509Certificate2? presented = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.RawData);
                return true;
            },
        };
        using var client = new HttpClient(handler) { Timeout = Patience };
        using var answer = await client.GetAsync(new Uri($"https://127.0.0.1:{at.Port}/metrics"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(node.Certificate.Thumbprint, presented?.Thumbprint);
        presented?.Dispose();
        using var plain = new HttpClient { Timeout = Patience };
        try
        {
            using var refused = await plain.GetAsync(new Uri($"http://127.0.0.1:{at.Port}/metrics"), TestContext.Current.CancellationToken);
            Assert.NotEqual(HttpStatusCode.OK, refused.StatusCode);
        }
        catch (HttpRequestException)
        {
            // closed without an answer: as good
        }
    }

    [Fact]
    public async Task Off_loopback_without_a_certificate_it_stays_off()
    {
        await using var web = new Running(new IPEndPoint(IPAddress.Any, 0));
        Assert.Null(await web.BoundAsync());
        Assert.Contains("TLS needs this node's certificate", Assert.Single(web.Log), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.3.4.5", false)]
    [InlineData("::1", false)]
    [InlineData("0.0.0.0", true)]
    [InlineData("10.77.1.1", true)]
    public void Only_loopback_addresses_are_served_without_tls(string address, bool tls)
    {
        Assert.Equal(tls, WebListener.UsesTls(IPAddress.Parse(address)));
    }
}
