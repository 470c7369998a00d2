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
    private readonly Func<int, bool> _ended = ended ?? OpenMosix.Linux.Proc.ProcFs.HasEnded;
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
        var living = Living().ToList();
        var children = living.Select(Describe).ToList();
        AddMovedOnForks(living, children);
        if (children.Count == 0 && !_reported) return null;
        _reported = children.Count > 0;
        return new ForkedThere(children);
    }

    /// <summary>
    /// The forks of those that moved on, as their nodes report them here (a copy's forks are its home's to list, and
    /// this node is the home of what the copy forked here): they go on to the copy's home, which then lists the whole
    /// tree; a PID already listed (another node's PID space) and any beyond the report's bound are left out.
    /// </summary>
    private void AddMovedOnForks(List<ManagedProcess> living, List<ForkedChild> children)
    {
        var movedOn = living.Where(p => p.State == ProcessState.Remote).Select(p => p.Pid).ToHashSet();
        if (movedOn.Count == 0) return;
        var listed = children.Select(c => c.Pid).ToHashSet();
        foreach (var (_, c) in registry.ForkedAway.ReportedThrough(movedOn))
            if (children.Count < ForkedThere.MaxChildren && listed.Add(c.Pid))
                children.Add(new ForkedChild(c.Pid, c.ParentPid, c.Uid, c.Where, c.RemotePid, c.State, c.Command, c.CpuSeconds, c.MemoryBytes));
    }

    /// <summary>The link to what a process of this copy's tree that moved on forked where it runs, if
    /// <paramref name="pid"/> is listed there: home's signals and moves for it go on over that link.</summary>
    public IForkedRoute? MovedOnRoute(int pid) =>
        registry.ForkedAway.Find(pid) is { } found && registry.Find(found.Route.Deputy) is { } deputy && deputy.ForkedByGuest == guestPid
            ? found.Route : null;

    /// <summary>What the copy forked here that has not ended: an orphan that ended is a zombie until whoever adopted it
    /// reaps it, and is not waited for.</summary>
    private IEnumerable<ManagedProcess> Living() => registry.ForkedBy(guestPid).Where(p => !_ended(p.Pid));

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
    /// (its deputy, if it moved on, relays it), or on to what one that moved on forked there; false when there is none
    /// such under that PID.</summary>
    public bool Signal(SignalForked request)
    {
        if (Find(request.Pid) is null) return MovedOnRoute(request.Pid) is { } route && route.Signal(request.Pid, request.Signal) is null;
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
