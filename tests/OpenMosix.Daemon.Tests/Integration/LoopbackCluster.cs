using System.Globalization;
using System.Net;
using System.Net.Sockets;
using OpenMosix.Admin;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>
/// Real omd processes (the om binary) on loopback addresses 127.B.C.i of one machine, each with its own config,
/// admin socket, log and node certificate, sharing a key, a CA and a map. B.C and the gossip port are random so that clusters of parallel
/// tests never hear each other. Gossip runs fast (250 ms rounds, suspect after 1.5 s, dead after 3 s).
/// </summary>
public sealed class LoopbackCluster : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan SuspectAfter = TimeSpan.FromMilliseconds(1500);
    public static readonly TimeSpan DeadAfter = TimeSpan.FromMilliseconds(3000);

    private readonly TempDirectory _dir = new("om-cluster");
    private readonly Dictionary<int, ChildProcess> _daemons = [];
    private readonly TestPki _pki = new();
    private readonly int _subnet;

    public LoopbackCluster(int mapNodes, int? speedOverride = 10000)
    {
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        _subnet = Random.Shared.Next(1, 250 * 250);
        GossipPort = FreeUdpPort();
        OpenMosix.Daemon.Hosting.KeyringFile.Create(KeyPath, DateTimeOffset.UtcNow);
        WriteMap(Enumerable.Range(1, mapNodes));
        for (var id = 1; id <= 8; id++)
        {
            _pki.WriteNode(TlsDirectory(id), (ushort)id, Address(id));
            var speed = speedOverride is { } s ? $"[speed]\noverride = {s}\n" : "";
            File.WriteAllText(ConfigPath(id), $"""
                [node]
                id = {id}
                address = "{Address(id)}"
                [paths]
                map = "{MapPath}"
                key = "{KeyPath}"
                tls_dir = "{TlsDirectory(id)}"
                socket = "{SocketPath(id)}"
                state_dir = "{StateDirectory(id)}"
                [gossip]
                port = {GossipPort}
                interval_ms = {(int)Interval.TotalMilliseconds}
                suspect_after_ms = {(int)SuspectAfter.TotalMilliseconds}
                dead_after_ms = {(int)DeadAfter.TotalMilliseconds}
                {speed}
                """);
        }
    }

    public int GossipPort { get; }
    public string KeyPath => _dir.File("cluster.key");
    public string MapPath => _dir.File("cluster.map");
    public string Directory => _dir.Path;

    public IPAddress Address(int id) =>
        IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"127.{_subnet / 250 + 1}.{_subnet % 250 + 1}.{id}"));

    public string ConfigPath(int id) => _dir.File($"n{id}.toml");
    public string SocketPath(int id) => _dir.File($"n{id}.sock");
    public string LogPath(int id) => _dir.File($"n{id}.log");
    public string StateDirectory(int id) => _dir.File($"n{id}.state");
    public string TlsDirectory(int id) => _dir.File($"n{id}.tls");

    /// <summary>Writes a map of the given node ids (one line each).</summary>
    public string WriteMap(IEnumerable<int> ids, string? path = null)
    {
        path ??= MapPath;
        File.WriteAllLines(path, ids.Select(id => $"{id} {Address(id)} 1"));
        return path;
    }

    public void Start(params int[] ids)
    {
        foreach (var id in ids)
        {
            _daemons.Remove(id, out var old);
            old?.Dispose();
            _daemons[id] = ChildProcess.StartToFile(OmBinary.Path, ["daemon", "--config", ConfigPath(id)], LogPath(id));
        }
        foreach (var id in ids)
            Poll.Until(() => Answers(id), TimeSpan.FromSeconds(15), $"omd {id} to answer on its socket (log: {Log(id)})");
    }

    public ChildProcess Daemon(int id) => _daemons[id];

    public void Kill(int id) => _daemons[id].Kill();

    public AdminClient Client(int id) => new(SocketPath(id), TimeSpan.FromSeconds(5));

    public ClusterView View(int id)
    {
        using var client = Client(id);
        return client.NodesAsync().GetAwaiter().GetResult();
    }

    public string? StateSeenBy(int observer, int node) =>
        View(observer).Nodes.FirstOrDefault(n => n.Id == node)?.State.Name();

    /// <summary>Runs om as a user would on node <paramref name="id"/> (OM_SOCKET points at its omd).</summary>
    public CommandResult Om(int id, params string[] arguments) =>
        CommandRun.Run(OmBinary.Path, arguments, new Dictionary<string, string> { ["OM_SOCKET"] = SocketPath(id) });

    public string Log(int id) => File.Exists(LogPath(id)) ? File.ReadAllText(LogPath(id)) : "(no log)";

    public void Dispose()
    {
        foreach (var daemon in _daemons.Values) daemon.Dispose();
        _dir.Dispose();
        _pki.Dispose();
    }

    private bool Answers(int id)
    {
        if (_daemons[id].HasExited)
            throw new InvalidOperationException($"omd {id} exited at start: {Log(id)}");
        try
        {
            using var client = Client(id);
            client.HealthAsync().GetAwaiter().GetResult();
            return true;
        }
        catch (AdminException)
        {
            return false;
        }
    }

    private static int FreeUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
