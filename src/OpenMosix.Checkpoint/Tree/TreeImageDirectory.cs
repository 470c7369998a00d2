using OpenMosix.Checkpoint.Format;

namespace OpenMosix.Checkpoint.Tree;

/// <summary>
/// A process tree's image directory being written: the tree file (<c>tree</c>) and one image per running process
/// (<c>PID.img</c>), all 0600 in a fresh directory (0700) beside the path, renamed over it only once complete, so
/// a failed checkpoint leaves nothing behind. The path must not exist yet, or be an empty directory.
/// </summary>
public sealed class TreeImageDirectory : IDisposable
{
    public const string TreeFileName = "tree";
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _path;
    private readonly string _partial;
    private readonly bool _compress;
    private bool _committed;

    private TreeImageDirectory(string path, string partial, bool compress)
    {
        _path = path;
        _partial = partial;
        _compress = compress;
    }

    public static TreeImageDirectory Create(string path, bool compress)
    {
        var full = Path.GetFullPath(path.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : path);
        if (File.Exists(full)) throw new IOException($"{path} exists and is not a directory (a tree's image is a directory)");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new IOException($"{path} is not empty (a tree's image needs a new or empty directory)");
        var partial = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.partial");
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        Directory.CreateDirectory(partial, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new TreeImageDirectory(full, partial, compress);
    }

    /// <summary>A writer for the image of process <paramref name="pid"/>; disposing it closes the file.</summary>
    internal ImageWriter OpenProcess(int pid) => new(Open(TreeValidator.ImageName(pid)), new ImageWriterOptions(_compress));

    /// <summary>Drops the image begun for a process that turned out to have exited.</summary>
    internal void Forget(int pid) => File.Delete(Path.Combine(_partial, TreeValidator.ImageName(pid)));

    internal void WriteTree(TreeImage tree)
    {
        using var writer = new ImageWriter(Open(TreeFileName), new ImageWriterOptions(_compress));
        writer.WriteTree(tree);
        writer.Complete();
    }

    /// <summary>Puts the complete directory at its path.</summary>
    public void Commit()
    {
        if (Directory.Exists(_path)) Directory.Delete(_path); // empty, checked at the start
        Directory.Move(_partial, _path);
        _committed = true;
    }

    public void Dispose()
    {
        if (!_committed && Directory.Exists(_partial)) Directory.Delete(_partial, recursive: true);
    }

    private FileStream Open(string name)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        return new(Path.Combine(_partial, name), new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 1 << 16,
            UnixCreateMode = OwnerOnly,
        });
    }
}
