using OpenMosix.Cluster.Keys;
using OpenMosix.Daemon.Config;

namespace OpenMosix.Daemon.Hosting;

/// <summary>
/// Notices a new keyring: when the file's modification time or size changed (`om key rotate` renames a new file
/// over it), or on request (SIGHUP). A file that cannot be read or parsed keeps the ring in use and is logged, so
/// a bad copy never takes a node off the cluster. Polled from the gossip and discovery loops, once per round.
/// </summary>
public sealed partial class KeyringWatcher
{
    private readonly string _path;
    private readonly ILogger _logger;
    private (DateTime, long) _stamp;
    private volatile bool _requested;

    public KeyringWatcher(string path, ILogger logger)
    {
        _path = path;
        _logger = logger;
        _stamp = Stamp();
        Current = KeyringFile.Read(path);
    }

    public Keyring Current { get; private set; }

    /// <summary>Reload at the next poll whatever the file's stamp (SIGHUP); safe from a signal handler's thread.</summary>
    public void RequestReload() => _requested = true;

    /// <summary>True when <see cref="Current"/> changed.</summary>
    public bool Poll()
    {
        var stamp = Stamp();
        if (!_requested && stamp == _stamp)
            return false;
        _requested = false;
        _stamp = stamp;
        try
        {
            Current = KeyringFile.Read(_path);
        }
        catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
        {
            LogReloadFailed(_logger, e.Message);
            return false;
        }
        LogReloaded(_logger, _path, string.Join(',', Current.Secrets.Select(s => s.Id)), Current.SendingAt(DateTimeOffset.UtcNow).Id);
        return true;
    }

    private (DateTime, long) Stamp()
    {
        var file = new FileInfo(_path);
        return file.Exists ? (file.LastWriteTimeUtc, file.Length) : (DateTime.MinValue, -1);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "keyring {Path} reloaded: keys {Ids}, sending under key {Sending}")]
    private static partial void LogReloaded(ILogger logger, string path, string ids, ushort sending);

    [LoggerMessage(Level = LogLevel.Error, Message = "keyring not reloaded, the keys in use stay: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string reason);
}
