using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace OpenMosix.Web.Tests;

/// <summary>The dashboard over plain HTTP: what it serves, with which headers, and which move requests it refuses.</summary>
public sealed class DashboardHttpTests : IAsyncLifetime
{
    private readonly DashboardWorld _world = new();
    private readonly HttpClient _http = new();
    private int _adminCalls;

    public async ValueTask InitializeAsync()
    {
        await _world.StartAsync();
        _world.Admin = request =>
        {
            Interlocked.Increment(ref _adminCalls);
            return OpenMosix.Daemon.Admin.HttpResponse.Error(409, "test: not moved");
        };
        _http.BaseAddress = new Uri(_world.Url);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _world.DisposeAsync();
    }

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/dashboard.js", "text/javascript")]
    [InlineData("/dashboard.css", "text/css")]
    [InlineData("/api/cluster", "application/json")]
    public async Task Each_part_is_served_with_its_content_type_and_a_strict_content_security_policy(string path, string type)
    {
        using var response = await _http.GetAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(';', response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task The_page_loads_nothing_from_another_origin()
    {
        var page = await _http.GetStringAsync("/", TestContext.Current.CancellationToken);

        Assert.DoesNotContain("//", page.Replace("<!doctype html>", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain(" style=", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_event_stream_sends_a_snapshot_of_the_cluster()
    {
        using var response = await _http.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("event: snapshot", await reader.ReadLineAsync(TestContext.Current.CancellationToken));
        var data = await reader.ReadLineAsync(TestContext.Current.CancellationToken);
        Assert.StartsWith("data: {\"cluster\":{\"self\":1,", data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_move_from_another_origin_is_refused_before_its_token_is_looked_at()
    {
        using var response = await PostMoveAsync(_world.Token.Value, "application/json", origin: "http://evil.example");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, _adminCalls);
    }

    [Fact]
    public async Task A_move_another_site_makes_is_refused_by_its_fetch_metadata()
    {
        using var response = await PostMoveAsync(_world.Token.Value, "application/json", site: "cross-site");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, _adminCalls);
    }

    [Fact]
    public async Task A_move_sent_as_a_form_is_refused()
    {
        using var response = await PostMoveAsync(_world.Token.Value, "application/x-www-form-urlencoded");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(0, _adminCalls);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task A_move_without_root_s_token_is_answered_401(string? token)
    {
        using var response = await PostMoveAsync(token, "application/json");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(0, _adminCalls);
    }

    [Fact]
    public async Task A_move_with_the_token_is_answered_by_the_admin_route_with_its_status()
    {
        using var response = await PostMoveAsync(_world.Token.Value, "application/json", origin: _world.Url.TrimEnd('/'));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("test: not moved", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(1, _adminCalls);
    }

    [Theory]
    [InlineData("{\"node\":0}")]
    [InlineData("{\"node\":70000}")]
    [InlineData("{\"nodes\":2}")]
    [InlineData("not json")]
    public async Task A_move_order_without_a_node_id_is_answered_400(string body)
    {
        using var response = await PostMoveAsync(_world.Token.Value, "application/json", body: body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, _adminCalls);
    }

    [Theory]
    [InlineData("/", "rebound.example", HttpStatusCode.MisdirectedRequest)]
    [InlineData("/api/procs", "rebound.example", HttpStatusCode.MisdirectedRequest)]
    [InlineData("/api/procs", "localhost", HttpStatusCode.OK)]
    [InlineData("/api/procs", "127.0.0.1", HttpStatusCode.OK)]
    public async Task Only_requests_addressed_to_this_machine_are_answered(string path, string host, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = $"{host}:{new Uri(_world.Url).Port}";

        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
    }

    private async Task<HttpResponseMessage> PostMoveAsync(string? token, string contentType, string? origin = null, string? site = null,
        string body = "{\"node\":2}")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/procs/4242/migrate")
        {
            Content = new StringContent(body, Encoding.UTF8, contentType),
        };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (site is not null) request.Headers.Add("Sec-Fetch-Site", site);
        return await _http.SendAsync(request, TestContext.Current.CancellationToken);
    }
}
