using System.Globalization;

namespace OpenMosix.Daemon.Processes;

/// <summary>
/// The classic per-process files, under /run/openmosix/proc/PID/ (next to omd's socket): <c>where</c> (node id),
/// <c>lock</c> (1/0), <c>cantmove</c> (reasons, one per line), <c>nmigs</c>. Each belongs to the process's owner,
/// who may write a node id (or "home") to <c>where</c> to move it, and 0/1 to <c>lock</c>. omd rewrites the true
/// values after acting, so a refused request reads back unchanged (the reason is in omd's log).
/// </summary>
public sealed partial class ProcView : IDisposable
{
    private readonly string _root;
    private readonly ProcessRegistry _registry;
    private readonly Func<ManagedProcess, string, Task> _move;
    private readonly ILogger _logger;
    private readonly FileSystemWatcher _watcher;
    private readonly Dictionary<string, string> _written = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public ProcView(string root, ProcessRegistry registry, Func<ManagedProcess, string, Task> move, ILogger logger)
    {
        _root = root;
        _registry = registry;
        _move = move;
        _logger = logger;
        Directory.CreateDirectory(root);
        _watcher = new FileSystemWatcher(root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        _watcher.Changed += (_, e) => OnWritten(e.FullPath);
        _watcher.EnableRaisingEvents = true;
    }

    /// <summary>Brings the files in line with the registry: new processes appear, gone ones disappear.</summary>
    public void Refresh()
    {
        var list = _registry.List();
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in list.Processes.Where(p => p.State != "guest"))
        {
            var directory = Path.Join(_root, row.Pid.ToString(CultureInfo.InvariantCulture));
            live.Add(directory);
            Directory.CreateDirectory(directory);
            Write(directory, "where", row.Where.ToString(CultureInfo.InvariantCulture), row.Uid);
            Write(directory, "lock", row.Locked ? "1" : "0", row.Uid);
            Write(directory, "nmigs", row.Migrations.ToString(CultureInfo.InvariantCulture), row.Uid);
            Write(directory, "cantmove", string.Join('\n', row.CantMove), row.Uid);
        }
        foreach (var directory in Directory.EnumerateDirectories(_root).Where(d => !live.Contains(d)))
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Someone holds it open; the next refresh tries again.
            }
        }
    }

    public async Task RunAsync(CancellationToken cancel)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            do Refresh();
            while (await timer.WaitForNextTickAsync(cancel).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // omd is stopping.
        }
    }

    public void Dispose()
    {
        _watcher.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    private void Write(string directory, string name, string value, int uid)
    {
        var path = Path.Join(directory, name);
        var text = value + "\n";
        lock (_gate)
        {
            if (_written.TryGetValue(path, out var known) && known == text && File.Exists(path)) return;
            _written[path] = text;
        }
        // Written aside and renamed into place: a write in place would first show an empty or half-written file,
        // which the watcher would take for a request from the owner (move to '', or back to where it was).
        var aside = Path.Join(directory, "." + name + ".new");
        File.WriteAllText(aside, text);
        if (name is "where" or "lock")
        {
            File.SetUnixFileMode(aside, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            Chown(aside, uid);
        }
        File.Move(aside, path, overwrite: true);
    }

    private void OnWritten(string path)
    {
        var name = Path.GetFileName(path);
        if (name is not ("where" or "lock")) return;
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException)
        {
            return;
        }
        lock (_gate)
        {
            if (_written.TryGetValue(path, out var known) && known == text) return;
            _written.Remove(path);
        }
        if (!int.TryParse(Path.GetFileName(Path.GetDirectoryName(path)), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || _registry.Find(pid) is not { } process)
            return;
        var request = text.Trim();
        if (name == "lock")
        {
            if (request is "0" or "1") _registry.Update(process, p => p.Locked = request == "1");
            else LogBadWrite(_logger, path, request);
            Refresh();
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await _move(process, request == "0" ? "home" : request).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogMoveRefused(_logger, pid, request, e.Message);
            }
            Refresh();
        });
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path}: '{Value}' is not 0 or 1")]
    private static partial void LogBadWrite(ILogger logger, string path, string value);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid}: move to '{Target}' written to its where file refused: {Reason}")]
    private static partial void LogMoveRefused(ILogger logger, int pid, string target, string reason);
}
