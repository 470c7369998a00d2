using System.Security.Cryptography;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Daemon.Config;

namespace OpenMosix.Daemon.Hosting;

/// <summary>The shared secret every node of a cluster holds: it authenticates gossip between them.</summary>
public static class ClusterKey
{
    public const int Size = 32;

    public static byte[] Read(string path)
    {
        if (!File.Exists(path))
            throw new ConfigException($"no cluster key at {path}: create one with `om keygen {path}` and copy it to every node");
        var key = File.ReadAllBytes(path);
        if (key.Length < GossipCodec.MinKeySize)
            throw new ConfigException($"{path}: a cluster key needs at least {GossipCodec.MinKeySize} bytes, this one has {key.Length}");
        return key;
    }

    /// <summary>Writes a fresh random key readable by root only; refuses to replace an existing one.</summary>
    public static void Create(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        try
        {
            using var file = new FileStream(path, options);
            file.Write(RandomNumberGenerator.GetBytes(Size));
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new ConfigException($"{path} already exists; remove it first if you really mean to replace the cluster key");
        }
    }

    public static bool IsReadableByOthers(string path) =>
        (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0;
}
