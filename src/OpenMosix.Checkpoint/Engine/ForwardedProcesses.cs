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

    /// <summary>The forwarded numbers of <paramref name="pid"/>, or null when it has none (or is another process now).</summary>
    public IReadOnlySet<int>? Of(int pid)
    {
        if (!_byPid.TryGetValue(pid, out var entry)) return null;
        try
        {
            if (ProcFs.ReadStat(pid).StartTime == entry.StartTime) return entry.Fds;
        }
        catch (Exception e) when (e is ProcessAccessException or IOException)
        {
            // gone
        }
        _byPid.TryRemove(pid, out _);
        return null;
    }

    /// <summary>How many of the process's seccomp filters are omd's (its forwarding filter, which every migration
    /// target gets, for the calls about its children and parent if nothing else).</summary>
    public int OwnFilters(int pid) => Of(pid) is not null ? 1 : 0;

    /// <summary>Whether <paramref name="pid"/> is a copy restored here as a migration target.</summary>
    public bool IsGuest(int pid) => Of(pid) is not null;
}
