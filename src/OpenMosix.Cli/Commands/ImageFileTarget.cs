using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Cli.Commands;

/// <summary>
/// An image file being written. An image holds a process's memory: it is created 0600 (never readable by others,
/// not even for a moment), under a fresh name next to its path (O_EXCL: nothing planted there is followed), given
/// to the process's owner when root writes another user's process, and renamed over the path only once complete,
/// so a failed checkpoint leaves no file and an older image untouched. A path that names a device or a FIFO
/// (/dev/null, a named pipe) is written in place, created by no one.
/// </summary>
internal sealed class ImageFileTarget : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _path;
    private readonly string? _partial;
    private bool _committed;

    private ImageFileTarget(string path, string? partial, FileStream stream)
    {
        _path = path;
        _partial = partial;
        Stream = stream;
    }

    public FileStream Stream { get; }

    /// <summary>Opens the image file for the process <paramref name="pid"/> (whose owner it is given to).</summary>
    public static ImageFileTarget Create(string path, int pid)
    {
        if (FileStatus.TryOf(path, out var existing, out _) && existing!.Type is not (FileType.Regular or FileType.Directory))
            return new ImageFileTarget(path, null, new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None, 0));
        var full = Path.GetFullPath(path);
        var partial = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.partial");
        var stream = new FileStream(partial, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
            UnixCreateMode = OwnerOnly,
        });
        var target = new ImageFileTarget(path, partial, stream);
        try
        {
            GiveToOwner(stream.SafeFileHandle, pid);
        }
        catch
        {
            target.Dispose();
            throw;
        }
        return target;
    }

    /// <summary>The image is complete: it takes the path's name (replacing an older file there).</summary>
    public void Commit()
    {
        Stream.Flush(flushToDisk: false);
        if (_partial is not null) File.Move(_partial, _path, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        Stream.Dispose();
        if (_partial is not null && !_committed) File.Delete(_partial);
    }

    /// <summary>Root writing another user's process: the image belongs to that user, who may restore it themselves.</summary>
    private static void GiveToOwner(SafeFileHandle file, int pid)
    {
        if (!Environment.IsPrivilegedProcess) return;
        var status = ProcFs.ReadStatus(pid);
        if (status.Uid[0] == 0 && status.Gid[0] == 0) return;
        FileOwnership.Change(file, (int)status.Uid[0], (int)status.Gid[0]);
    }
}
