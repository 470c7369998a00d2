using OpenMosix.Checkpoint.Restore;
using System.Collections.Concurrent;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// The processes this engine restored with forwarded descriptors: which numbers are placeholders for descriptors
/// home serves, so that a later checkpoint (its trip home, or on) records them as forwarded again, and that the
/// forwarding filter the restore gave them is not taken for one of their own. Keyed by PID and start time, so a
/// recycled PID inherits nothing.
/// </summary>
internal sealed class ForwardedProcesses
{
    private readonly ConcurrentDictionary<int, (ulong StartTime, IReadOnlySet<int> Fds)> _byPid = new();

    /// <param name="target">restored as a migration target (a guest): it forwards what its home left there, and nothing else.</param>
    public void Restored(RestoredProcess restored, bool target)
    {
        if (!target) return;
        _byPid[restored.Pid] = (ProcFs.ReadStat(restored.Pid).StartTime, restored.Forwarded.ToHashSet());
    }

    /// <summary>A copy restored by an omd that died (adopted: <see cref="CheckpointEngine.AdoptGuest"/>): a guest with
    /// its forwarding filter, and no descriptor forwarded (such a copy is not kept for a next omd).</summary>
    public void Adopted(int pid)
    {
        _byPid[pid] = (ProcFs.ReadStat(pid).StartTime, new HashSet<int>());
        _adopted[pid] = true;
    }

    private readonly ConcurrentDictionary<int, bool> _adopted = new();

    /// <summary>Whether <paramref name="pid"/> is an adopted guest (traced by the engine's exit watch).</summary>
    public bool IsAdopted(int pid)
    {
        if (IsGuest(pid)) return _adopted.ContainsKey(pid);
        // Gone, or another process now: its PID inherits nothing.
        _adopted.TryRemove(pid, out _);
        return false;
    }

    /// <summary>The forwarded numbers of <paramref name="pid"/>, or null when it has none (or is another process now):
    /// those of its restore and those it got while away (<see cref="Later"/>).</summary>
    public IReadOnlySet<int>? Of(int pid)
    {
        if (!_byPid.TryGetValue(pid, out var entry)) return null;
        try
        {
            if (ProcFs.ReadStat(pid).StartTime == entry.StartTime)
            {
                if (!_later.TryGetValue(pid, out var later) || later.IsEmpty) return entry.Fds;
                var all = new HashSet<int>(entry.Fds);
                all.UnionWith(later.Keys);
                return all;
            }
        }
        catch (Exception e) when (e is ProcessAccessException or IOException)
        {
            // gone
        }
        _byPid.TryRemove(pid, out _);
        _later.TryRemove(pid, out _);
        return null;
    }

    // Numbers a copy got while away (a socket it made, a connection it accepted, a file opened at home, a duplicate),
    // each held at home by its deputy under that number: placeholders as those of its restore are.
    private readonly ConcurrentDictionary<int, ConcurrentDictionary<int, byte>> _later = new();

    /// <summary>Number <paramref name="fd"/> of guest <paramref name="pid"/> is forwarded from now on (<paramref name="open"/>),
    /// or no longer (its copy closed it). A number of its restore stays one: the copy keeps that placeholder.</summary>
    public void Later(int pid, int fd, bool open)
    {
        if (!_byPid.ContainsKey(pid)) return;
        if (open) _later.GetOrAdd(pid, _ => new())[fd] = 0;
        else if (_later.TryGetValue(pid, out var later)) later.TryRemove(fd, out _);
    }

    /// <summary>How many of the process's seccomp filters are omd's (its forwarding filter, which every migration
    /// target gets, for the calls about its children and parent if nothing else, and which what a copy forks inherits:
    /// remote fork).</summary>
    public int OwnFilters(int pid) => Of(pid) is not null || Inherits(pid) ? 1 : 0;

    // Descendants of copies found so, by PID and start time: one orphaned since (its copy ended) keeps the filter.
    private readonly ConcurrentDictionary<int, ulong> _inherited = new();

    /// <summary>
    /// Whether <paramref name="pid"/> descends from a copy restored here, and so runs under the forwarding filter it
    /// inherited at fork (installed with the restorer's CAP_SYS_ADMIN: taken for the process's own, it would make a
    /// process without that capability or no_new_privs unmovable). Found by its ancestry in /proc while the copy
    /// lives, and remembered for after; an orphan first looked at after its copy ended is not recognised.
    /// </summary>
    private bool Inherits(int pid)
    {
        try
        {
            var started = ProcFs.ReadStat(pid).StartTime;
            if (_inherited.TryGetValue(pid, out var known) && known == started) return true;
            var at = pid;
            for (var depth = 0; depth < 64; depth++)
            {
                var parent = ProcFs.ReadStat(at).PPid;
                if (parent <= 1) return false;
                if (IsGuest(parent))
                {
                    _inherited[pid] = started;
                    return true;
                }
                at = parent;
            }
        }
        catch (Exception e) when (e is ProcessAccessException or IOException or FormatException or UnauthorizedAccessException)
        {
            // It, or an ancestor, ended while we looked.
        }
        return false;
    }

    /// <summary>Whether <paramref name="pid"/> is a copy restored here as a migration target.</summary>
    public bool IsGuest(int pid) => Of(pid) is not null;
}
