using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Config;

namespace OpenMosix.Daemon.Hosting;

/// <summary>
/// The settings of this node's links as they are in effect: the record ciphers of link.record_ciphers this process can
/// run (AEGIS needs the libsodium om ships), and `mosctl getlink`'s rows, named as in omd.toml so that what it prints
/// can be pasted back into the file.
/// </summary>
public static class LinkSettings
{
    /// <summary>The ciphers of <paramref name="wanted"/> this process can run, in their order, and those it cannot.</summary>
    public static (IReadOnlyList<RecordCipher> Offered, IReadOnlyList<RecordCipher> LeftOut) Split(IReadOnlyList<RecordCipher> wanted,
        RecordCipher supported)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        return ([.. wanted.Where(c => (supported & c) != 0)], [.. wanted.Where(c => (supported & c) == 0)]);
    }

    /// <summary>The ciphers this node offers: those of omd.toml it can run.</summary>
    public static IReadOnlyList<RecordCipher> Offered(OmdConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Split(config.RecordCiphers, RecordCiphers.Supported).Offered;
    }

    /// <summary>`mosctl getlink`: the port, the record ciphers offered (in the order this node chooses by), the node protocol
    /// versions spoken and liveness.</summary>
    public static TuneList Of(OmdConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new TuneList(
        [
            new("migration.port", config.MigrationPort.ToString(CultureInfo.InvariantCulture), ""),
            new("link.record_ciphers", Toml(Offered(config)), ""),
            new("link.protocol_versions", $"\"{config.ProtocolVersions}\"", ""),
            new("liveness.heartbeat_interval_ms", Number(config.HeartbeatInterval), "ms"),
            new("liveness.link_timeout_ms", Number(config.LinkTimeout), "ms"),
        ]);
    }

    /// <summary>A cipher list as omd.toml writes it: ["aegis-128l", "aes-128-gcm"].</summary>
    public static string Toml(IReadOnlyList<RecordCipher> ciphers)
    {
        ArgumentNullException.ThrowIfNull(ciphers);
        return $"[{string.Join(", ", ciphers.Select(c => $"\"{RecordCiphers.Name(c)}\""))}]";
    }

    private static string Number(TimeSpan span) => span.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);
}
