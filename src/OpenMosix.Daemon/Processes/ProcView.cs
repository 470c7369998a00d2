using OpenMosix.Daemon.Admin;

namespace OpenMosix.Daemon.Processes;

/// <summary>
/// The classic per-process files, under /run/openmosix/proc/PID/ (next to omd's socket): <c>where</c> (node id),
/// <c>lock</c> (1/0), <c>cantmove</c> (reasons, one per line), <c>nmigs</c>, and <c>migrate</c>, which reads 0 and
/// takes a node id (or "home") to move the process, as openMosix's /proc/PID/migrate did. A guest (a process whose
/// home is another node) has a directory too, with <c>home</c> (its node) and <c>homepid</c> (its PID there); writing
/// a node id to its <c>migrate</c> sends it on. Each home process's files belong to its owner, who may write a node
/// id to <c>where</c> or <c>migrate</c> and 0/1 to <c>lock</c>; a guest's are root's. omd rewrites the true values
/// after acting, so a refused request reads back unchanged (the reason is in omd's log).
/// </summary>
public sealed partial class ProcView(string root, ProcessRegistry registry, Func<ManagedProcess, string, Task> move, ILogger logger)
    : WatchedFileView(root, "proc", logger)
{
    /// <summary>Sends a guest on (to its home or another node); answers why not, or null. Null: guests cannot be moved from here.</summary>
    public Func<int, ushort, Task<string?>>? MoveGuest { get; init; }

    /// <summary>A process of this node was locked or unlocked through its file (its copy away is told).</summary>
    public Action<ManagedProcess>? LockChanged { get; init; }

    /// <summary>Brings the files in line with the registry: new processes appear, gone ones disappear.</summary>
    public override void Refresh()
    {
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in registry.List().Processes)
        {
            var pid = row.Pid.ToString(CultureInfo.InvariantCulture);
            live.Add(pid);
            var guest = row.State == "guest";
            int? owner = guest ? null : row.Uid;
            Files.Write($"{pid}/where", row.Where.ToString(CultureInfo.InvariantCulture), owner);
            Files.Write($"{pid}/lock", row.Locked ? "1" : "0", owner);
            Files.Write($"{pid}/migrate", "0", owner);
            Files.Write($"{pid}/nmigs", row.Migrations.ToString(CultureInfo.InvariantCulture));
            Files.Write($"{pid}/cantmove", string.Join('\n', row.CantMove));
            if (!guest) continue;
            Files.Write($"{pid}/home", row.Home.ToString(CultureInfo.InvariantCulture));
            Files.Write($"{pid}/homepid", row.RemotePid.ToString(CultureInfo.InvariantCulture));
        }
        Files.Prune("", live);
    }

    protected override void OnRequest(string path, string request)
    {
        var parts = path.Split('/');
        if (parts.Length != 2 || parts[1] is not ("where" or "lock" or "migrate")
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || registry.Find(pid) is not { } process)
            return;
        if (parts[1] == "lock")
        {
            if (request is "0" or "1")
            {
                registry.Update(process, p => p.Locked = request == "1");
                if (process.State != ProcessState.Guest) LockChanged?.Invoke(process);
            }
            else LogBadWrite(Logger, path, request);
            Refresh();
            return;
        }
        if (parts[1] == "migrate" && request == "0") return;
        _ = Task.Run(async () =>
        {
            try
            {
                if (process.State == ProcessState.Guest) await SendGuestOn(process, request).ConfigureAwait(false);
                else await move(process, request == "0" ? "home" : request).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogMoveRefused(Logger, pid, request, e.Message);
            }
            RefreshAfterRequest(path);
        });
    }

    private async Task SendGuestOn(ManagedProcess guest, string request)
    {
        ushort target;
        if (request is "home" or "0") target = guest.Home;
        else if (!ushort.TryParse(request, NumberStyles.None, CultureInfo.InvariantCulture, out target) || target == 0)
            throw new ArgumentException($"'{request}' is not a node id or \"home\"");
        if (MoveGuest is null) throw new InvalidOperationException("this node keeps no directory of its guests");
        if (await MoveGuest(guest.Pid, target).ConfigureAwait(false) is { } why) throw new InvalidOperationException(why);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path}: '{Value}' is not 0 or 1")]
    private static partial void LogBadWrite(ILogger logger, string path, string value);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid}: move to '{Target}' written to its where or migrate file refused: {Reason}")]
    private static partial void LogMoveRefused(ILogger logger, int pid, string target, string reason);
}
