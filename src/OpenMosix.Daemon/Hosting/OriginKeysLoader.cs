using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OpenMosix.Cluster.Gossip.Origins;
using OpenMosix.Daemon.Config;

namespace OpenMosix.Daemon.Hosting;

/// <summary>
/// This node's origin keys from its TLS directory (the layout `om ca issue` writes): <c>node.crt</c> (PEM, ECDSA
/// P-256, naming the node), <c>node.key</c> (PEM, 0600) and <c>ca.crt</c> (one or more PEM CA certificates).
/// </summary>
public static class OriginKeysLoader
{
    public const string Auto = "auto", Required = "required", Off = "off";
    public static readonly string[] Modes = [Auto, Required, Off];

    /// <summary>
    /// The keys for <paramref name="mode"/>: none when "off", or "auto" without a node certificate; else loaded and
    /// checked, any problem a <see cref="ConfigException"/> with one line saying which file and why.
    /// </summary>
    public static CertificateOriginKeys? Load(string directory, string mode, Func<DateTimeOffset> clock)
    {
        var certificatePath = Path.Join(directory, "node.crt");
        if (mode == Off || (mode == Auto && !File.Exists(certificatePath)))
            return null;
        var keyPath = Path.Join(directory, "node.key");
        var authorityPath = Path.Join(directory, "ca.crt");
        foreach (var needed in new[] { certificatePath, keyPath, authorityPath })
            if (!File.Exists(needed))
                throw new ConfigException($"gossip.origin_signatures = {mode} needs {needed}: issue this node's certificate with `om ca issue`");
        if ((File.GetUnixFileMode(keyPath) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            throw new ConfigException($"{keyPath} is open to group or others: chmod 600 {keyPath}");
        try
        {
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(authorityPath);
            if (authorities.Count == 0)
                throw new ConfigException($"{authorityPath} holds no certificate");
            using var own = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            return new CertificateOriginKeys(own, authorities, clock);
        }
        catch (CryptographicException e)
        {
            throw new ConfigException($"{directory}: cannot load the node certificate and key: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"{certificatePath}: {e.Message.Split(" (Parameter", 2)[0]}");
        }
    }
}
