using System.Text.Json;
using OpenMosix.Daemon.Balancing;
using OpenMosix.Daemon.Gossip;
using OpenMosix.Daemon.Measurement;

namespace OpenMosix.Daemon.Admin;

/// <summary>
/// openMosix's /proc/hpc, as files under /run/openmosix/hpc that omd keeps current every second:
/// <c>nodes/N/{CPUs,load,mem,rmem,tmem,speed,status,util}</c> for every node of the cluster as gossip knows it,
/// <c>admin/{block,quiet,stay,lstay}</c> (0/1), <c>admin/speed</c>, <c>admin/{bring,expel}</c> (0; write 1 to act) and
/// <c>decay/{slow,fast}</c> (half-lives in seconds). Files are root's: a write by root is carried out through the
/// admin API's own routes, with their checks, and the true value is written back after it (a refusal is logged).
/// </summary>
public sealed partial class HpcTree(string root, ClusterState cluster, LocalSampler sampler, NodeSwitches switches,
    DecaySettings decay, AdminRoutes routes, ILogger logger) : WatchedFileView(root, "hpc", logger)
{
    private static readonly PeerCredentials Root = new(Environment.ProcessId, 0, 0);

    public override void Refresh()
    {
        var nodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in cluster.View(DateTimeOffset.UtcNow).Nodes)
        {
            var id = Text(node.Id);
            nodes.Add(id);
            var known = node.AgeMs >= 0;
            Files.Write($"nodes/{id}/status", node.State.Name());
            Files.Write($"nodes/{id}/CPUs", known ? Text(node.Cpus) : "0");
            Files.Write($"nodes/{id}/load", known ? node.Load.ToString("0.00", CultureInfo.InvariantCulture) : "0");
            Files.Write($"nodes/{id}/speed", known ? Text(node.Speed) : "0");
            // omd gossips what a node can still give (MemAvailable): mem and rmem both say it.
            Files.Write($"nodes/{id}/mem", known ? Text(node.FreeMemory) : "0");
            Files.Write($"nodes/{id}/rmem", known ? Text(node.FreeMemory) : "0");
            Files.Write($"nodes/{id}/tmem", known ? Text(node.TotalMemory) : "0");
            Files.Write($"nodes/{id}/util", known ? Text((long)Math.Round(node.Utilization * 100)) : "0");
        }
        Files.Prune("nodes", nodes);
        var on = switches.OnNames();
        foreach (var name in NodeSwitches.Names.Keys) Files.Write($"admin/{name}", on.Contains(name) ? "1" : "0");
        Files.Write("admin/speed", Text(sampler.Resources.Speed));
        Files.Write("admin/bring", "0");
        Files.Write("admin/expel", "0");
        Files.Write("decay/slow", decay.Rates.Slow.TotalSeconds.ToString(CultureInfo.InvariantCulture));
        Files.Write("decay/fast", decay.Rates.Fast.TotalSeconds.ToString(CultureInfo.InvariantCulture));
    }

    protected override void OnRequest(string path, string value)
    {
        if (Request(path, value) is not { } request)
        {
            LogRefused(Logger, path, value, "not a file that takes writes, or not a value it takes");
            Refresh();
            return;
        }
        // bring and expel move processes one after the other: not on the watcher's thread.
        _ = Task.Run(() =>
        {
            var response = routes.Handle(request, Root);
            if (response.Status >= 400) LogRefused(Logger, path, value, ErrorOf(response));
            RefreshAfterRequest(path);
        });
    }

    /// <summary>The admin API request a write stands for, or null when the write means nothing.</summary>
    private HttpRequest? Request(string path, string value)
    {
        var parts = path.Split('/');
        if (parts.Length != 2) return null;
        var number = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n) ? n : (double?)null;
        return (parts[0], parts[1], value) switch
        {
            ("admin", var s, "0" or "1") when NodeSwitches.Names.ContainsKey(s) =>
                Post("switches", JsonSerializer.SerializeToUtf8Bytes(new SwitchChange(s, value == "1"), AdminJsonContext.Default.SwitchChange)),
            ("admin", "bring" or "expel", "1") => Post(parts[1], []),
            ("admin", "speed", _) when number is { } speed && speed == Math.Floor(speed) =>
                new HttpRequest("PUT", "/v1/speed", JsonSerializer.SerializeToUtf8Bytes(new SpeedSetting((long)Math.Clamp(speed, -1, 1e12)), AdminJsonContext.Default.SpeedSetting)),
            ("decay", "slow" or "fast", _) when number is { } seconds => Post("decay", JsonSerializer.SerializeToUtf8Bytes(
                parts[1] == "slow"
                    ? new DecayChange(seconds, decay.Rates.Fast.TotalSeconds)
                    : new DecayChange(decay.Rates.Slow.TotalSeconds, seconds), AdminJsonContext.Default.DecayChange)),
            _ => null,
        };
    }

    private static HttpRequest Post(string route, byte[] body) => new("POST", $"/v1/{route}", body);

    private static string ErrorOf(HttpResponse response)
    {
        try
        {
            return JsonSerializer.Deserialize(response.Body, AdminJsonContext.Default.ErrorReply)?.Error ?? $"status {response.Status}";
        }
        catch (JsonException)
        {
            return $"status {response.Status}";
        }
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Warning, Message = "hpc/{Path}: '{Value}' refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string path, string value, string reason);
}
