namespace OpenMosix.Daemon.Config;

/// <summary>
/// A file only root reads (0600), written whole to a temporary file, flushed and renamed over the old one, so a crash
/// leaves the old or the new file, never half of one; a write that fails removes its temporary file. Its directory is
/// made (0700) if missing.
/// </summary>
public static class PrivateFile
{
    public static void Replace(string path, Action<FileStream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        if (Path.GetDirectoryName(path) is { Length: > 0 } directory)
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            BufferSize = 1 << 16,
        };
        try
        {
            using (var file = new FileStream(temporary, options))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
