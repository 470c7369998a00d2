namespace OpenMosix.Daemon.Admin;

/// <summary>
/// A tree of small text files omd keeps current (the classic /proc/hpc and /proc/PID files, under /run/openmosix)
/// and in which a write by someone else is a request. omd's own writes go aside and are renamed into place, so a
/// reader never sees a half-written value. A write is told from another by its <see cref="Stamp"/> (inode,
/// modification time, size and text): omd stamps its own before the rename, so the watcher, whenever it reads the
/// file, knows omd's writes (the one in place and the one about to replace it) and never takes them for a request.
/// Any other stamp reaches <c>request</c> once (its path relative to the root and the text written), however many
/// events inotify gives it, and also when its text is what omd wrote last: that value may be stale (a lock set
/// another way, not yet written back, when the user writes "0" to lift it). omd rewrites the true value after a
/// request, so a refused one reads back as it was.
/// <para>No write is missed: a directory omd makes (a new process's) is watched only from when the watcher sees it
/// made, so its files are read once it is watched (a write before then had no event); and inotify drops events when
/// its queue is full (IN_Q_OVERFLOW, the watcher's Error): then every file is read again (<see cref="Rescan"/>).</para>
/// <para>One writer at a time (the clock's refresh and a refresh after a request may run together): they would
/// otherwise share the aside file, and one's rename would take the other's away. Nothing that goes wrong in the
/// watcher's handlers stops the watcher or omd: it is handed to <c>failed</c> (omd's log), and the watcher goes on.</para>
/// </summary>
public sealed class WatchedFiles : IDisposable
{
    private readonly FileSystemWatcher _watcher;
    private readonly Dictionary<string, FileState> _files = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Lock _writing = new();
    private readonly Action<string, string> _request;
    private readonly Action<Exception>? _lost;
    private readonly Action<string, Exception>? _failed;

    /// <param name="lost">told when the watcher lost events (before the files are read again): for omd's log.</param>
    /// <param name="failed">told what went wrong in the watcher's handlers (a request's, or reading the files): the
    /// file or directory, and the exception; for omd's log.</param>
    public WatchedFiles(string root, Action<string, string> request, Action<Exception>? lost = null, Action<string, Exception>? failed = null)
    {
        Root = root;
        _request = request;
        _lost = lost;
        _failed = failed;
        Directory.CreateDirectory(root);
        _watcher = new FileSystemWatcher(root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.DirectoryName,
        };
        _watcher.Changed += (_, e) => Guarded(e.FullPath, () => OnChanged(e.FullPath));
        // The watcher adds its watch on a new directory (and on those already in it) before it reports it made: what
        // was written there before is read now, what is written after has its event.
        _watcher.Created += (_, e) => Guarded(e.FullPath, () =>
        {
            if (Directory.Exists(e.FullPath)) Rescan(e.FullPath);
        });
        _watcher.Error += (_, e) => Guarded(Root, () => OnLost(e.GetException()));
        _watcher.EnableRaisingEvents = true;
    }

    public string Root { get; }

    /// <summary>Writes <paramref name="value"/> (and a newline) unless the file holds it from omd's last write and
    /// no request came since.</summary>
    /// <param name="owner">a uid that may write requests into it (mode 0644, owned by them); null: root only.</param>
    public void Write(string relativePath, string value, int? owner = null)
    {
        var path = Path.Join(Root, relativePath);
        var text = value + "\n";
        lock (_writing)
        {
            lock (_gate)
                // A write not yet seen by the watcher is left alone: the request it stands for must be read first.
                if (_files.TryGetValue(path, out var known) && known.OwnText == text && !known.Requested && File.Exists(path)) return;
            var directory = Path.GetDirectoryName(path)!;
            Directory.CreateDirectory(directory);
            var aside = Path.Join(directory, "." + Path.GetFileName(path) + ".new");
            File.WriteAllText(aside, text);
            File.SetUnixFileMode(aside, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            if (owner is { } uid) Chown(aside, uid);
            // Stamped before the rename: from the rename on, the watcher may read it.
            var stamp = Stamp.Of(aside, text);
            lock (_gate)
            {
                var state = State(path);
                state.Previous = state.Own;
                state.Own = stamp;
                state.OwnText = text;
                state.Requested = false;
            }
            File.Move(aside, path, overwrite: true);
        }
    }

    /// <summary>Removes the directories directly under <paramref name="relativeDirectory"/> ("" for the root) that are not in <paramref name="keep"/>.</summary>
    public void Prune(string relativeDirectory, IReadOnlySet<string> keep)
    {
        var parent = relativeDirectory.Length == 0 ? Root : Path.Join(Root, relativeDirectory);
        lock (_writing)
        {
            if (!Directory.Exists(parent)) return;
            foreach (var directory in Directory.EnumerateDirectories(parent).Where(d => !keep.Contains(Path.GetFileName(d))).ToList())
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
                    foreach (var stale in _files.Keys.Where(k => k.StartsWith(directory + "/", StringComparison.Ordinal)).ToList())
                        _files.Remove(stale);
            }
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
    public void Rescan() => Rescan(Root);

    private void Rescan(string directory)
    {
        List<string> files;
        try
        {
            files = [.. Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A directory went away while listed (a process ended): nothing there to act on.
            return;
        }
        foreach (var path in files) Guarded(path, () => OnChanged(path));
    }

    private void OnLost(Exception e)
    {
        _lost?.Invoke(e);
        Rescan();
    }

    private void OnChanged(string path)
    {
        if (Path.GetFileName(path).StartsWith('.')) return;
        Stamp stamp;
        lock (_gate)
        {
            // Read under the lock omd's writes take to stamp themselves: what is read is then omd's last write, the
            // one it is about to rename over it, or someone else's. Read outside it, a reading could be two of omd's
            // writes old by the time it was compared (a CI rehearsal took omd's own "0" for a request).
            if (Stamp.Read(path) is not { } read) return;
            stamp = read;
            // `echo 2 > file` truncates before it writes: the empty file in between is no request.
            if (stamp.Text.Trim().Length == 0) return;
            var state = State(path);
            // omd's own write (in place, or the one about to replace it), or a write already taken (inotify may
            // report one write as several changes, and a rescan reads what events reported too).
            if (stamp == state.Own || stamp == state.Previous || stamp == state.Seen) return;
            state.Seen = stamp;
            state.Requested = true;
        }
        _request(Path.GetRelativePath(Root, path), stamp.Text.Trim());
    }

    private FileState State(string path)
    {
        if (!_files.TryGetValue(path, out var state)) _files[path] = state = new FileState();
        return state;
    }

    /// <summary>Runs a handler of the watcher's: what it throws is told to <c>failed</c>, never left to stop the
    /// watcher (.NET's stops at a handler's exception) or to kill omd (an exception in the watcher's Error handler does).</summary>
    private void Guarded(string path, Action handler)
    {
        try
        {
            handler();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            try
            {
                _failed?.Invoke(path, e);
            }
            catch (Exception)
            {
                // A log that fails has nowhere to say so; the watcher goes on.
            }
        }
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

    /// <summary>What the watcher knows of one file: omd's last two writes (the rename of the last may not have
    /// happened yet when the watcher reads the file), the last request read, and whether one came since omd's write.</summary>
    private sealed class FileState
    {
        public Stamp? Own { get; set; }
        public Stamp? Previous { get; set; }
        public string? OwnText { get; set; }
        public Stamp? Seen { get; set; }
        public bool Requested { get; set; }
    }

    /// <summary>One write to a file: its inode (a rename brings a new one), modification time and size (a write in
    /// place changes them) and text (two writes within one tick of the file system's clock differ by it).</summary>
    private readonly record struct Stamp(ulong Inode, long Modified, long Size, string Text)
    {
        public static Stamp Of(string path, string text) => Linux.FileStatus.TryOf(path, out var status, out _)
            ? new(status!.Inode, status.ModifiedNanoseconds, status.Size, text)
            : new(0, 0, -1, text);

        /// <summary>The file's text with the stamp it had throughout the read, or null when it is gone. Stat, read,
        /// stat again until both agree: a write in between (in place or by rename) gives a stamp its next read differs from.</summary>
        public static Stamp? Read(string path)
        {
            for (var attempt = 0; ; attempt++)
            {
                if (!Linux.FileStatus.TryOf(path, out var before, out _)) return null;
                string text;
                try
                {
                    text = File.ReadAllText(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return null;
                }
                if (!Linux.FileStatus.TryOf(path, out var after, out _)) return null;
                var stamp = new Stamp(after!.Inode, after.ModifiedNanoseconds, after.Size, text);
                // Still changing after a few reads: the writer's next write has an event of its own.
                if ((before!.Inode == after.Inode && before.ModifiedNanoseconds == after.ModifiedNanoseconds && before.Size == after.Size) || attempt == 4)
                    return stamp;
            }
        }
    }
}
