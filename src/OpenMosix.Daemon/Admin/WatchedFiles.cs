namespace OpenMosix.Daemon.Admin;

/// <summary>
/// A tree of small text files omd keeps current (the classic /proc/hpc and /proc/PID files, under /run/openmosix)
/// and in which a write by someone else is a request. omd's own writes go aside and are renamed into place, so a
/// reader never sees a half-written value and the watcher never takes omd's writes for a request; what omd wrote
/// last is remembered, so only a different, non-empty value written by someone else reaches <c>request</c> (its path
/// relative to the root and the text written). omd rewrites the true value after acting, so a refused request reads back as
/// it was. inotify drops events when its queue is full (IN_Q_OVERFLOW, the watcher's Error): then every file is read
/// again (<see cref="Rescan"/>), so a request written meanwhile is acted on all the same, only later.
/// </summary>
public sealed class WatchedFiles : IDisposable
{
    private readonly FileSystemWatcher _watcher;
    private readonly Dictionary<string, string> _written = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Action<string, string> _request;
    private readonly Action<Exception>? _lost;

    /// <param name="lost">told when the watcher lost events (before the files are read again): for omd's log.</param>
    public WatchedFiles(string root, Action<string, string> request, Action<Exception>? lost = null)
    {
        Root = root;
        _request = request;
        _lost = lost;
        Directory.CreateDirectory(root);
        _watcher = new FileSystemWatcher(root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        _watcher.Changed += (_, e) => OnChanged(e.FullPath);
        _watcher.Error += (_, e) => OnLost(e.GetException());
        _watcher.EnableRaisingEvents = true;
    }

    public string Root { get; }

    /// <summary>Writes <paramref name="value"/> (and a newline) unless the file already holds it.</summary>
    /// <param name="owner">a uid that may write requests into it (mode 0644, owned by them); null: root only.</param>
    public void Write(string relativePath, string value, int? owner = null)
    {
        var path = Path.Join(Root, relativePath);
        var text = value + "\n";
        lock (_gate)
        {
            if (_written.TryGetValue(path, out var known) && known == text && File.Exists(path)) return;
            _written[path] = text;
        }
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var aside = Path.Join(directory, "." + Path.GetFileName(path) + ".new");
        File.WriteAllText(aside, text);
        File.SetUnixFileMode(aside, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        if (owner is { } uid) Chown(aside, uid);
        File.Move(aside, path, overwrite: true);
    }

    /// <summary>Removes the directories directly under <paramref name="relativeDirectory"/> ("" for the root) that are not in <paramref name="keep"/>.</summary>
    public void Prune(string relativeDirectory, IReadOnlySet<string> keep)
    {
        var parent = relativeDirectory.Length == 0 ? Root : Path.Join(Root, relativeDirectory);
        if (!Directory.Exists(parent)) return;
        foreach (var directory in Directory.EnumerateDirectories(parent).Where(d => !keep.Contains(Path.GetFileName(d))))
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Someone holds it open; the next refresh tries again.
            }
            lock (_gate)
                foreach (var stale in _written.Keys.Where(k => k.StartsWith(directory + "/", StringComparison.Ordinal)).ToList())
                    _written.Remove(stale);
        }
    }

    public void Dispose()
    {
        _watcher.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    /// <summary>Reads every file again, as if each had just changed: what someone else wrote and no event reported
    /// (lost in an overflow) reaches <c>request</c>; what omd wrote, or a request already seen, does not.</summary>
    public void Rescan()
    {
        List<string> files;
        try
        {
            files = [.. Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A directory went away while listed (a process ended): what is left is read at the next loss, if any.
            return;
        }
        foreach (var path in files) OnChanged(path);
    }

    private void OnLost(Exception e)
    {
        _lost?.Invoke(e);
        Rescan();
    }

    private void OnChanged(string path)
    {
        if (Path.GetFileName(path).StartsWith('.')) return;
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        // `echo 2 > file` truncates before it writes: the empty file in between is no request.
        if (text.Trim().Length == 0) return;
        lock (_gate)
        {
            // The same text seen twice (inotify may report one write as several changes) is one request; once acted
            // on, the refresh finds the file differing from the true value and writes that back.
            if (_written.TryGetValue(path, out var known) && known == text) return;
            _written[path] = text;
        }
        _request(Path.GetRelativePath(Root, path), text.Trim());
    }

    private static void Chown(string path, int uid)
    {
        try
        {
            Linux.FileOwnership.Change(path, uid, -1);
        }
        catch (Linux.SyscallException)
        {
            // Not fatal: root can still write it.
        }
    }
}
