using OpenMosix.Cluster.Keys;
using OpenMosix.Daemon.Config;

namespace OpenMosix.Daemon.Hosting;

/// <summary>
/// The cluster keyring on disk (format in <see cref="KeyringText"/>, docs/gossip.md): read with its mode checked,
/// and replaced whole (an exclusive 0600 temporary file renamed over it) so a reader never sees half a ring.
/// </summary>
public static class KeyringFile
{
    private const UnixFileMode OthersMayTouch =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    public static Keyring Read(string path)
    {
        if (!File.Exists(path))
            throw new ConfigException($"no cluster key at {path}: create one with `om keygen {path}` and copy it to every node");
        var mode = File.GetUnixFileMode(path);
        if ((mode & OthersMayTouch) != 0)
            throw new ConfigException($"{path} is open to group or others (mode {Convert.ToString((int)mode, 8)}): chmod 600 {path}");
        try
        {
            return KeyringText.Parse(File.ReadAllBytes(path));
        }
        catch (FormatException e)
        {
            throw new ConfigException($"{path}: {e.Message}");
        }
    }

    /// <summary>Writes a fresh keyring of one key readable by root only; refuses to replace an existing file.</summary>
    public static Keyring Create(string path, DateTimeOffset now)
    {
        if (File.Exists(path))
            throw new ConfigException($"{path} already exists; `om key rotate {path}` adds a key to it, or remove it first to start over");
        var ring = Keyring.Fresh(1, now);
        Write(path, ring);
        return ring;
    }

    /// <summary>
    /// Adds a fresh key, used for sending from <paramref name="activateAfter"/> on, then drops keys older than
    /// <paramref name="retireOlderThan"/> when given. A key file of the first format becomes a keyring holding it as id 0.
    /// </summary>
    public static Keyring Rotate(string path, DateTimeOffset now, TimeSpan activateAfter, TimeSpan? retireOlderThan)
    {
        var ring = Read(path).WithFreshSecret(now, now + activateAfter);
        if (retireOlderThan is { } age)
            ring = ring.WithoutSecretsBefore(now - age, now);
        Write(path, ring);
        return ring;
    }

    public static Keyring Retire(string path, DateTimeOffset now, TimeSpan olderThan)
    {
        var ring = Read(path).WithoutSecretsBefore(now - olderThan, now);
        Write(path, ring);
        return ring;
    }

    /// <summary>Replaces the file atomically: a new 0600 file next to it, renamed over it.</summary>
    public static void Write(string path, Keyring ring)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Join(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        try
        {
            using (var file = new FileStream(temporary, options))
            {
                file.Write(System.Text.Encoding.ASCII.GetBytes(KeyringText.Format(ring)));
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
