using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using OpenMosix.Cluster.Map;
using OpenMosix.Daemon.Gossip;
using OpenMosix.Daemon.Measurement;
using OpenMosix.Daemon.Migration;

namespace OpenMosix.Daemon.Admin;

/// <summary>
/// The admin API's routes. Reading is open to every local user; changing the map or the speed needs root.
/// Every answer is JSON; errors are {"error": "one line"} with a 4xx status.
/// </summary>
public sealed partial class AdminRoutes(ClusterState cluster, LocalSampler sampler, DateTimeOffset startedAt,
    ProcessRegistry processes, HomeMigration migration, Balancing.NodeSwitches? switches = null,
    Config.OmdConfig? config = null, Balancing.DecaySettings? decay = null, GuestDirectory? guests = null,
    ManageSettings? manage = null)
{
    private readonly Balancing.NodeSwitches _switches = switches ?? new Balancing.NodeSwitches();
    private readonly Config.OmdConfig _config = config ?? new Config.OmdConfig();
    private readonly Balancing.DecaySettings _decay = decay ?? new Balancing.DecaySettings(config?.Decay ?? OpenMosix.Balancing.Demand.DecayRates.Default);

    /// <summary>A process registered without a placement of its own: the balancer may start it elsewhere.</summary>
    public Action<ManagedProcess>? Started { get; init; }

    public HttpResponse Handle(HttpRequest request, PeerCredentials caller)
    {
        ArgumentNullException.ThrowIfNull(request);
        var segments = request.Path.Trim('/').Split('/');
        if (segments.Length < 2 || segments[0] != "v1")
            return HttpResponse.Error(404, $"no such API path: {request.Path}");
        try
        {
            return (request.Method, segments[1], segments.Length) switch
            {
                ("GET", "health", 2) => Health(),
                ("GET", "nodes", 2) => HttpResponse.Json(cluster.View(DateTimeOffset.UtcNow), AdminJsonContext.Default.ClusterView),
                ("GET", "nodes", 3) => Node(segments[2]),
                ("GET", "map", 2) => HttpResponse.Json(cluster.Map(), AdminJsonContext.Default.MapView),
                ("PUT", "map", 2) => RootOnly(caller, "load a map") ?? LoadMap(request.Body),
                ("DELETE", "map", 2) => RootOnly(caller, "take this node out of the cluster")
                    ?? HttpResponse.Json(cluster.Leave(DateTimeOffset.UtcNow), AdminJsonContext.Default.MapChange),
                ("PUT", "speed", 2) => RootOnly(caller, "set the speed") ?? SetSpeed(request.Body),
                ("GET", "switches", 2) => HttpResponse.Json(SwitchList(), AdminJsonContext.Default.NodeSwitchList),
                ("POST", "switches", 2) => RootOnly(caller, "change this node's switches") ?? SetSwitch(request.Body),
                ("GET", "link", 2) => HttpResponse.Json(Hosting.LinkSettings.Of(_config), AdminJsonContext.Default.TuneList),
                ("GET", "tune", 2) => HttpResponse.Json(Balancing.Tunables.Of(_config, _decay.Rates), AdminJsonContext.Default.TuneList),
                ("GET", "decay", 2) => HttpResponse.Json(DecayNow(), AdminJsonContext.Default.DecaySetting),
                ("POST", "decay", 2) => RootOnly(caller, "change the decay half-lives") ?? SetDecay(request.Body),
                ("POST", "bring", 2) => RootOnly(caller, "bring this node's processes home") ?? Bring(),
                ("POST", "expel", 2) => RootOnly(caller, "expel this node's guests") ?? Expel(),
                ("POST", "procs", 2) => Register(caller, request.Body),
                ("GET", "manage", 2) => HttpResponse.Json(ManageNow(), AdminJsonContext.Default.ManageView),
                ("PUT", "manage", 2) => RootOnly(caller, "change which processes are managed") ?? SetManage(request.Body),
                ("GET", "procs", 2) => HttpResponse.Json(processes.List(), AdminJsonContext.Default.ProcessList),
                ("GET", "procs", 3) => Process(segments[2]),
                ("POST", "procs", 4) when segments[3] == "migrate" => Migrate(segments[2], request.Body, caller),
                ("POST", "procs", 4) when segments[3] == "migrate-tree" => MigrateTree(segments[2], request.Body, caller),
                ("POST", "procs", 4) when segments[3] == "adopt" => Adopt(segments[2], request.Body, caller),
                ("POST", "procs", 4) when segments[3] == "release" => Release(segments[2], caller),
                ("POST", "procs", 4) when segments[3] == "signal" => Signal(segments[2], request.Body, caller),
                ("GET", "stats", 3) when segments[2] == "gossip" =>
                    HttpResponse.Json(cluster.Stats(), AdminJsonContext.Default.GossipStats),
                (_, "health" or "nodes" or "map" or "speed" or "stats" or "procs" or "switches" or "bring" or "expel" or "tune" or "decay" or "manage", _) =>
                    HttpResponse.Error(405, $"{request.Method} is not allowed on {request.Path}"),
                _ => HttpResponse.Error(404, $"no such API path: {request.Path}"),
            };
        }
        catch (JsonException e)
        {
            // The message quotes the offending text, line breaks included; the caller prints one line.
            return HttpResponse.Error(400, $"request body is not the expected JSON: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    private HttpResponse Health()
    {
        var identity = cluster.Identity;
        var health = new Health(identity.Id, identity.Address.ToString(), cluster.InCluster ? "map" : "off",
            Environment.ProcessId, (long)(DateTimeOffset.UtcNow - startedAt).TotalMilliseconds);
        return HttpResponse.Json(health, AdminJsonContext.Default.Health);
    }

    private HttpResponse Node(string text)
    {
        if (!ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id == 0)
            return HttpResponse.Error(400, $"'{text}' is not a node id (1-65535)");
        var row = cluster.View(DateTimeOffset.UtcNow).Nodes.FirstOrDefault(n => n.Id == id);
        return row is null
            ? HttpResponse.Error(404, $"node {id} is not in the map")
            : HttpResponse.Json(row, AdminJsonContext.Default.NodeRow);
    }

    private HttpResponse LoadMap(byte[] body)
    {
        var upload = JsonSerializer.Deserialize(body, AdminJsonContext.Default.MapUpload);
        if (upload is null) return HttpResponse.Error(400, "empty map upload");
        ClusterMap map;
        try
        {
            map = ClusterMap.Parse(upload.Text ?? "", string.IsNullOrEmpty(upload.Name) ? "map" : upload.Name);
        }
        catch (MapFileException e)
        {
            return HttpResponse.Error(422, e.Message);
        }
        var source = string.IsNullOrEmpty(upload.Source) ? "setpe" : upload.Source;
        return HttpResponse.Json(cluster.LoadMap(map, source, DateTimeOffset.UtcNow), AdminJsonContext.Default.MapChange);
    }

    private NodeSwitchList SwitchList() => new(_switches.OnNames());

    private HttpResponse SetSwitch(byte[] body)
    {
        var change = JsonSerializer.Deserialize(body, AdminJsonContext.Default.SwitchChange);
        if (change is null || !Balancing.NodeSwitches.Names.TryGetValue(change.Name ?? "", out var flag))
            return HttpResponse.Error(400, $"no such switch '{change?.Name}' (block, quiet, stay, lstay)");
        _switches.Set(flag, change.On);
        return HttpResponse.Json(SwitchList(), AdminJsonContext.Default.NodeSwitchList);
    }

    /// <summary>
    /// mosctl bring: lstay first (so the balancer sends nothing out again), then every own process away comes home,
    /// one after the other; one that cannot come home runs on where it is and is reported.
    /// </summary>
    private HttpResponse Bring()
    {
        _switches.Set(OpenMosix.Cluster.Gossip.NodeFlags.LocalStay, true);
        var (brought, failed) = OneByOne(processes.Away(), p => $"{p.Pid}", process =>
        {
            try
            {
                migration.BringHomeAsync(process).GetAwaiter().GetResult();
                return null;
            }
            catch (Exception e) when (e is MigrationException or TimeoutException)
            {
                return e.Message;
            }
        });
        return HttpResponse.Json(new BringResult(brought, failed, SwitchList().On), AdminJsonContext.Default.BringResult);
    }

    private DecaySetting DecayNow()
    {
        var rates = _decay.Rates;
        return new DecaySetting(rates.Slow.TotalSeconds, rates.Fast.TotalSeconds, Balancing.JobOptions.Name(Balancing.DecaySettings.DefaultMode));
    }

    /// <summary>mosctl setdecay: new half-lives for this node, in memory only (omd.toml's apply again at the next start).</summary>
    private HttpResponse SetDecay(byte[] body)
    {
        var change = JsonSerializer.Deserialize(body, AdminJsonContext.Default.DecayChange);
        if (change is null) return HttpResponse.Error(400, "empty decay change");
        // JSON has no NaN or infinity; clamping keeps an absurd number from overflowing TimeSpan, and Problem refuses it.
        static TimeSpan Seconds(double s) => TimeSpan.FromSeconds(Math.Clamp(s, -1e9, 1e9));
        var rates = new OpenMosix.Balancing.Demand.DecayRates(Seconds(change.SlowSeconds), Seconds(change.FastSeconds));
        if (rates.Problem() is { } problem) return HttpResponse.Error(400, problem);
        _decay.Set(rates);
        return HttpResponse.Json(DecayNow(), AdminJsonContext.Default.DecaySetting);
    }

    /// <summary>
    /// mosctl expel: block first (so no guest arrives meanwhile), then every guest is sent home, one after the other;
    /// one whose home cannot take it runs on here and is reported.
    /// </summary>
    private HttpResponse Expel()
    {
        _switches.Set(OpenMosix.Cluster.Gossip.NodeFlags.Blocked, true);
        var (expelled, failed) = OneByOne(processes.Guests(), g => $"{g.Pid} (process {g.RemotePid} of node {g.Home})",
            guest => guests is null
                ? "this node keeps no directory of its guests"
                : guests.RequestMoveAsync(guest.Pid, guest.Home, "expel").WaitAsync(TimeSpan.FromMinutes(10)).GetAwaiter().GetResult());
        return HttpResponse.Json(new ExpelResult(expelled, failed, SwitchList().On), AdminJsonContext.Default.ExpelResult);
    }

    /// <summary>Moves each in turn; <paramref name="move"/> answers null when it moved, else why not ("WHO: why").</summary>
    private static (List<int> Moved, List<string> Failed) OneByOne(IEnumerable<ManagedProcess> items,
        Func<ManagedProcess, string> who, Func<ManagedProcess, string?> move)
    {
        var moved = new List<int>();
        var failed = new List<string>();
        foreach (var item in items)
        {
            if (move(item) is { } why) failed.Add($"{who(item)}: {why}");
            else moved.Add(item.Pid);
        }
        return (moved, failed);
    }

    private HttpResponse SetSpeed(byte[] body)
    {
        var setting = JsonSerializer.Deserialize(body, AdminJsonContext.Default.SpeedSetting);
        if (setting is null || setting.Speed is < 1 or > 10_000_000)
            return HttpResponse.Error(400, "speed must be between 1 and 10000000");
        sampler.Resources = sampler.Resources with { Speed = (uint)setting.Speed };
        return HttpResponse.Json(setting, AdminJsonContext.Default.SpeedSetting);
    }

    private HttpResponse Register(PeerCredentials caller, byte[] body)
    {
        var placement = body.Length == 0 ? null : JsonSerializer.Deserialize(body, AdminJsonContext.Default.RunRequest);
        if (!Balancing.JobOptions.TryParseDecay(placement?.Decay, out var decay))
            return HttpResponse.Error(400, $"no such decay '{placement?.Decay}' (slow, fast, none)");
        if (!Balancing.JobOptions.TryParseHint(placement?.Hint, out var hint))
            return HttpResponse.Error(400, $"no such job hint '{placement?.Hint}' (cpu, io)");
        // The caller registers itself: the kernel vouches for its PID and uid, so nobody can adopt another's process.
        try
        {
            var process = processes.Register(caller.Pid, caller.Uid, decay, hint, execsNext: true);
            processes.Update(process, p => p.Request = placement);
            if (placement is not null) migration.PlaceAfterExec(process, placement);
            if (placement is null || (!placement.Home && placement.On == 0 && placement.Among.Count == 0)) Started?.Invoke(process);
            return HttpResponse.Json(processes.Row(process), AdminJsonContext.Default.ProcessRow);
        }
        catch (InvalidOperationException e)
        {
            return HttpResponse.Error(409, e.Message);
        }
    }

    private HttpResponse Process(string text)
    {
        if (!TryPid(text, out var pid, out var notPid)) return notPid;
        return processes.Find(pid) is { } process
            ? HttpResponse.Json(processes.Row(process), AdminJsonContext.Default.ProcessRow)
            : processes.ForkedAway.Row(pid, processes.Self) is { } forked ? HttpResponse.Json(forked, AdminJsonContext.Default.ProcessRow)
            : HttpResponse.Error(404, $"process {pid} is not managed by openMosix on this node (start it with `om run`)");
    }

    /// <summary>The PID a route names (/v1/procs/PID/...): digits only, positive; otherwise the 400 answer saying so.
    /// One parser for every route, so that each refuses the same texts with the same words.</summary>
    private static bool TryPid(string text, out int pid, [NotNullWhen(false)] out HttpResponse? notPid)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out pid) && pid > 0)
        {
            notPid = null;
            return true;
        }
        notPid = HttpResponse.Error(400, $"'{text}' is not a PID");
        return false;
    }

    private static HttpResponse? RootOnly(PeerCredentials caller, string what) =>
        caller.IsRoot ? null : HttpResponse.Error(403, $"only root may {what} (you are uid {caller.Uid})");
}
