using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// Remote fork, on the node a copy runs on: what the copy forks here is managed here from birth (its deputy would stay
/// here with its parent, which waits for it), and its home hears of it, whole lists at a time
/// (<see cref="ForkedThere"/>), so that the user who started the job there sees it in `om ps` and may signal it
/// (<see cref="SignalForked"/>) or move it (<see cref="MoveForked"/>). Those that outlive the copy are reported on
/// until the last one ends.
/// </summary>
/// <param name="ended">whether a PID names a process that ended and is not reaped yet (a zombie); null: read in /proc.</param>
internal sealed class ForkReports(ProcessRegistry registry, int guestPid, Func<int, bool>? ended = null)
{
    private readonly Func<int, bool> _ended = ended ?? IsZombie;
    // Read while the copy is registered: once it ended it is no longer, and home still knows it by its deputy's PID.
    private readonly int _homePid = registry.Find(guestPid) is { State: ProcessState.Guest } guest ? guest.RemotePid : 0;
    private bool _reported;

    /// <summary>The copy ended: its children here are orphans, reparented as any orphan is (home lists them under 1).</summary>
    public bool CopyEnded { get; set; }

    /// <summary>Whether any process the copy forked here still runs (here or moved on, its deputy here).</summary>
    public bool AnyLeft => _homePid != 0 && Living().Any();

    /// <summary>The report due now: the copy's descendants managed here, or an empty one once when the last ended; null
    /// when there is nothing to say.</summary>
    public ForkedThere? Due()
    {
        if (_homePid == 0) return null;
        var children = Living().Select(Describe).ToList();
        if (children.Count == 0 && !_reported) return null;
        _reported = children.Count > 0;
        return new ForkedThere(children);
    }

    /// <summary>What the copy forked here that has not ended: an orphan that ended is a zombie until whoever adopted it
    /// reaps it, and is not waited for.</summary>
    private IEnumerable<ManagedProcess> Living() => registry.ForkedBy(guestPid).Where(p => !_ended(p.Pid));

    private static bool IsZombie(int pid)
    {
        try
        {
            return OpenMosix.Linux.Proc.ProcFs.ReadStat(pid).State is 'Z' or 'X';
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return true;
        }
    }

    private ForkedChild Describe(ManagedProcess process)
    {
        var row = registry.Row(process);
        // Home knows the copy by its deputy's PID, and the copy's descendants by their PIDs here.
        var parent = process.ParentPid != guestPid ? process.ParentPid : CopyEnded ? 1 : _homePid;
        var runsHere = row.State == "home";
        var command = row.Command.Length > ForkedChild.MaxCommand ? row.Command[..ForkedChild.MaxCommand] : row.Command;
        return new ForkedChild(row.Pid, parent, row.Uid, row.Where, runsHere ? row.Pid : row.RemotePid, runsHere ? "remote" : row.State,
            command, row.CpuSeconds, row.MemoryBytes);
    }

    /// <summary>The process of this copy's tree under <paramref name="pid"/>; null when there is none such.</summary>
    public ManagedProcess? Find(int pid) => registry.Find(pid) is { } process && process.ForkedByGuest == guestPid ? process : null;

    /// <summary>A signal from home for one of the copy's descendants here: sent only to a process of this copy's tree
    /// (its deputy, if it moved on, relays it); false when there is none such under that PID.</summary>
    public bool Signal(SignalForked request)
    {
        if (Find(request.Pid) is null) return false;
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
