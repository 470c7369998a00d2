using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// Remote fork, on the node a copy runs on: what the copy forks here is managed here from birth (its deputy would stay
/// here with its parent, which waits for it), and its home hears of it, whole lists at a time
/// (<see cref="ForkedThere"/>), so that the user who started the job there sees it in `om ps` and may signal it
/// (<see cref="SignalForked"/>).
/// </summary>
internal sealed class ForkReports(ProcessRegistry registry, int guestPid)
{
    private bool _reported;

    /// <summary>The report due now: the copy's descendants managed here, or an empty one once when the last ended; null
    /// when there is nothing to say.</summary>
    public ForkedThere? Due()
    {
        var homePid = registry.Find(guestPid) is { State: ProcessState.Guest } guest ? guest.RemotePid : 0;
        if (homePid == 0) return null;
        var children = registry.ForkedBy(guestPid).Select(p => Describe(p, homePid)).ToList();
        if (children.Count == 0 && !_reported) return null;
        _reported = children.Count > 0;
        return new ForkedThere(children);
    }

    private ForkedChild Describe(ManagedProcess process, int homePid)
    {
        var row = registry.Row(process);
        // Home knows the copy by its deputy's PID, and the copy's descendants by their PIDs here.
        var parent = process.ParentPid == guestPid ? homePid : process.ParentPid;
        var runsHere = row.State == "home";
        var command = row.Command.Length > ForkedChild.MaxCommand ? row.Command[..ForkedChild.MaxCommand] : row.Command;
        return new ForkedChild(row.Pid, parent, row.Uid, row.Where, runsHere ? row.Pid : row.RemotePid, runsHere ? "remote" : row.State,
            command, row.CpuSeconds, row.MemoryBytes);
    }

    /// <summary>A signal from home for one of the copy's descendants here: sent only to a process of this copy's tree
    /// (its deputy, if it moved on, relays it); false when there is none such under that PID.</summary>
    public bool Signal(SignalForked request)
    {
        if (registry.Find(request.Pid) is not { } process || process.ForkedByGuest != guestPid) return false;
        try
        {
            Signals.Kill(request.Pid, request.Signal);
            return true;
        }
        catch (Exception e) when (e is ProcessAccessException or SyscallException)
        {
            return false; // it ended meanwhile
        }
    }
}
