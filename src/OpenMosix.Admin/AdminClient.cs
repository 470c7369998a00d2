using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Serialization.Metadata;

namespace OpenMosix.Admin;

/// <summary>
/// Talks HTTP+JSON to omd over its unix socket. The daemon learns who is calling from the socket itself
/// (SO_PEERCRED), so the client sends no credentials.
/// </summary>
public sealed class AdminClient : IDisposable
{
    private readonly HttpClient _http;

    public AdminClient(string? socketPath = null, TimeSpan? timeout = null)
    {
        SocketPath = socketPath ?? AdminPaths.Socket;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        };
        _http = new HttpClient(handler)
        {
            BaseAddress = new Uri("http://omd/"),
            Timeout = timeout ?? TimeSpan.FromSeconds(10),
        };
    }

    public string SocketPath { get; }

    public Task<Health> HealthAsync(CancellationToken cancel = default) =>
        GetAsync("v1/health", AdminJsonContext.Default.Health, cancel);

    public Task<ClusterView> NodesAsync(CancellationToken cancel = default) =>
        GetAsync("v1/nodes", AdminJsonContext.Default.ClusterView, cancel);

    public Task<NodeRow> NodeAsync(int id, CancellationToken cancel = default) =>
        GetAsync($"v1/nodes/{id}", AdminJsonContext.Default.NodeRow, cancel);

    public Task<MapView> MapAsync(CancellationToken cancel = default) =>
        GetAsync("v1/map", AdminJsonContext.Default.MapView, cancel);

    public Task<GossipStats> GossipStatsAsync(CancellationToken cancel = default) =>
        GetAsync("v1/stats/gossip", AdminJsonContext.Default.GossipStats, cancel);

    public Task<MapChange> LoadMapAsync(MapUpload map, CancellationToken cancel = default) =>
        SendAsync(HttpMethod.Put, "v1/map", Json(map, AdminJsonContext.Default.MapUpload),
            AdminJsonContext.Default.MapChange, cancel);

    public Task<MapChange> LeaveClusterAsync(CancellationToken cancel = default) =>
        SendAsync(HttpMethod.Delete, "v1/map", null, AdminJsonContext.Default.MapChange, cancel);

    public Task<NodeSwitchList> SetSwitchAsync(string name, bool on, CancellationToken cancel = default) =>
        SendAsync(HttpMethod.Post, "v1/switches", Json(new SwitchChange(name, on), AdminJsonContext.Default.SwitchChange),
            AdminJsonContext.Default.NodeSwitchList, cancel);

    public Task<BringResult> BringAsync(CancellationToken cancel = default) =>
        SendAsync(HttpMethod.Post, "v1/bring", null, AdminJsonContext.Default.BringResult, cancel);

    public Task<ExpelResult> ExpelAsync(CancellationToken cancel = default) =>
        SendAsync(HttpMethod.Post, "v1/expel", null, AdminJsonContext.Default.ExpelResult, cancel);

    /// <summary>`mosctl getlink`: this node's link settings in effect (omd.toml names).</summary>
    public Task<TuneList> LinkAsync(CancellationToken cancel = default) =>
        GetAsync("v1/link", AdminJsonContext.Default.TuneList, cancel);

    public Task<TuneList> TuneAsync(CancellationToken cancel = default) =>
        GetAsync("v1/tune", AdminJsonContext.Default.TuneList, cancel);

    public Task<ManageView> ManageAsync(CancellationToken cancel = default) =>
        GetAsync("v1/manage", AdminJsonContext.Default.ManageView, cancel);

    public Task<ManageView> SetManageAsync(ManageView policy, CancellationToken cancel = default) =>
        SendAsync(HttpMethod.Put, "v1/manage", Json(policy, AdminJsonContext.Default.ManageView), AdminJsonContext.Default.ManageView, cancel);

    public Task<DecaySetting> DecayAsync(CancellationToken cancel = default) =>
        GetAsync("v1/decay", AdminJsonContext.Default.DecaySetting, cancel);

    public Task<DecaySetting> SetDecayAsync(double slowSeconds, double fastSeconds, CancellationToken cancel = default) =>
        SendAsync(HttpMethod.Post, "v1/decay", Json(new DecayChange(slowSeconds, fastSeconds), AdminJsonContext.Default.DecayChange),
            AdminJsonContext.Default.DecaySetting, cancel);

    public Task<SpeedSetting> SetSpeedAsync(long speed, CancellationToken cancel = default) =>
        SendAsync(HttpMethod.Put, "v1/speed", Json(new SpeedSetting(speed), AdminJsonContext.Default.SpeedSetting),
            AdminJsonContext.Default.SpeedSetting, cancel);

    /// <summary>Makes the calling process a managed process of this node (`om run` before it execs the program).</summary>
    public Task<ProcessRow> RegisterSelfAsync(RunRequest placement, CancellationToken cancel = default) =>
        SendAsync(HttpMethod.Post, "v1/procs", Json(placement, AdminJsonContext.Default.RunRequest),
            AdminJsonContext.Default.ProcessRow, cancel);

    public Task<ProcessList> ProcessesAsync(CancellationToken cancel = default) =>
        GetAsync("v1/procs", AdminJsonContext.Default.ProcessList, cancel);

    public Task<ProcessRow> ProcessAsync(int pid, CancellationToken cancel = default) =>
        GetAsync($"v1/procs/{pid}", AdminJsonContext.Default.ProcessRow, cancel);

    public Task<ProcessList> AdoptAsync(int pid, bool tree, CancellationToken cancel = default) =>
        SendAsync(HttpMethod.Post, $"v1/procs/{pid}/adopt", Json(new AdoptRequest(tree), AdminJsonContext.Default.AdoptRequest),
            AdminJsonContext.Default.ProcessList, cancel);

    public Task<ProcessRow> SignalAsync(int pid, int signal, CancellationToken cancel = default) =>
        SendAsync(HttpMethod.Post, $"v1/procs/{pid}/signal", Json(new SignalRequest(signal), AdminJsonContext.Default.SignalRequest),
            AdminJsonContext.Default.ProcessRow, cancel);

    public Task<ProcessRow> ReleaseAsync(int pid, CancellationToken cancel = default) =>
        SendAsync(HttpMethod.Post, $"v1/procs/{pid}/release", null, AdminJsonContext.Default.ProcessRow, cancel);

    public Task<MigrationResult> MigrateAsync(int pid, string target, bool? precopy = null, CancellationToken cancel = default, string? postcopy = null) =>
        SendAsync(HttpMethod.Post, $"v1/procs/{pid}/migrate", Json(new MigrateRequest(target, precopy) { Postcopy = postcopy }, AdminJsonContext.Default.MigrateRequest),
            AdminJsonContext.Default.MigrationResult, cancel);

    /// <summary>om migrate --tree: the process and its descendants moved together, all or nothing (or, to home, each
    /// member away brought back).</summary>
    public Task<TreeMigrationResult> MigrateTreeAsync(int pid, string target, bool? precopy = null, CancellationToken cancel = default) =>
        SendAsync(HttpMethod.Post, $"v1/procs/{pid}/migrate-tree", Json(new MigrateRequest(target, precopy), AdminJsonContext.Default.MigrateRequest),
            AdminJsonContext.Default.TreeMigrationResult, cancel);

    /// <summary>
    /// A move that reports how far it has got to <paramref name="progress"/> while it runs. omd streams its progress
    /// (<see cref="MigrationEvents"/>); the client's timeout bounds the wait for each event, not the whole move. An
    /// omd that does not stream answers the result alone.
    /// </summary>
    public async Task<MigrationResult> MigrateAsync(int pid, string target, bool? precopy, IProgress<MigrationProgress> progress,
        CancellationToken cancel = default, string? postcopy = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/procs/{pid}/migrate")
        {
            Content = Json(new MigrateRequest(target, precopy, Progress: true) { Postcopy = postcopy }, AdminJsonContext.Default.MigrateRequest),
        };
        using var response = await ExchangeAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel).ConfigureAwait(false);
        if (response.Content.Headers.ContentType?.MediaType != MigrationEvents.MediaType)
            return await ResultAsync(response, AdminJsonContext.Default.MigrationResult, $"POST /v1/procs/{pid}/migrate", cancel).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false);
        return await MigrationEvents.ReadAsync(body, progress, _http.Timeout, cancel).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>A JSON body with a Content-Length: omd reads bounded bodies and refuses chunked ones.</summary>
    private static ByteArrayContent Json<T>(T value, JsonTypeInfo<T> type)
    {
        var content = new ByteArrayContent(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value, type));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    private Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancel) =>
        SendAsync(HttpMethod.Get, path, null, type, cancel);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> type,
        CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        using var response = await ExchangeAsync(request, HttpCompletionOption.ResponseContentRead, cancel).ConfigureAwait(false);
        return await ResultAsync(response, type, $"{method} /{path}", cancel).ConfigureAwait(false);
    }

    /// <summary>Sends a request; a failure to reach omd or an answer that does not come in time is an AdminException.</summary>
    private async Task<HttpResponseMessage> ExchangeAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancel)
    {
        try
        {
            return await _http.SendAsync(request, completion, cancel).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException socket)
        {
            throw Unreachable(socket, e);
        }
        catch (HttpRequestException e)
        {
            // Reached, then cut off before a whole answer: omd stopped (or was killed) while it worked on this.
            throw new AdminException($"omd at {SocketPath} closed the connection before it answered (was it stopped?)", 0, e);
        }
        catch (TaskCanceledException e) when (!cancel.IsCancellationRequested)
        {
            throw new AdminException($"omd at {SocketPath} did not answer within {_http.Timeout.TotalSeconds:0.#} s", 0, e);
        }
    }

    /// <summary>The answer's body as <typeparamref name="T"/>, or its error as an AdminException.</summary>
    private static async Task<T> ResultAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, string what, CancellationToken cancel)
    {
        if (!response.IsSuccessStatusCode)
            throw new AdminException(await ErrorTextAsync(response, cancel).ConfigureAwait(false), (int)response.StatusCode);
        return await response.Content.ReadFromJsonAsync(type, cancel).ConfigureAwait(false)
            ?? throw new AdminException($"omd sent an empty answer to {what}", (int)response.StatusCode);
    }

    private AdminException Unreachable(SocketException socket, Exception e) => socket.SocketErrorCode switch
    {
        SocketError.AddressNotAvailable or SocketError.ConnectionRefused =>
            new AdminException($"omd is not running (nothing listens on {SocketPath})", 0, e),
        SocketError.AccessDenied => new AdminException($"permission denied on {SocketPath}", 0, e),
        _ => new AdminException($"cannot reach omd at {SocketPath}: {socket.Message}", 0, e),
    };

    private static async Task<string> ErrorTextAsync(HttpResponseMessage response, CancellationToken cancel)
    {
        try
        {
            var reply = await response.Content.ReadFromJsonAsync(AdminJsonContext.Default.ErrorReply, cancel)
                .ConfigureAwait(false);
            if (reply is { Error.Length: > 0 })
                return reply.Error;
        }
        catch (System.Text.Json.JsonException)
        {
            // Not one of ours: fall through to the status line.
        }
        return $"omd answered {(int)response.StatusCode} {response.ReasonPhrase}";
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancel)
    {
        if (!File.Exists(SocketPath))
            throw new SocketException((int)SocketError.AddressNotAvailable);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancel).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
