namespace OpenMosix.Daemon.Processes;

/// <summary>
/// Processes this node's copies forked on the nodes they run on (remote fork), as those nodes report them over each
/// copy's link: home is their home too, so `om ps` here lists them (with the node they run on, and the deputy of the
/// copy that forked them as parent) and `om kill` and `om migrate` here reach them. They stay the real children of
/// their copy there, which waits for them: what is kept here is only each link's last report, replaced whole by the
/// next one and dropped when the link ends, which is after the last of them ended when they outlive their copy.
/// Reports are kept by the link that brought them (<see cref="IForkedRoute"/>), not by the deputy's PID: a deputy that
/// ended while its copy's children run on gives its PID back, and the next process under it has links of its own.
/// </summary>
public sealed class ForkedAway
{
    private readonly Lock _gate = new();
    private readonly Dictionary<IForkedRoute, (ushort Node, IReadOnlyList<Forked> Children)> _byRoute = [];

    /// <summary>One such process: its PID on its birth node, and how it is listed here.</summary>
    public sealed record Forked(int Pid, int ParentPid, int Uid, ushort Where, int RemotePid, string State, string Command,
        double CpuSeconds, long MemoryBytes);

    /// <summary>The copy whose link is <paramref name="route"/>, on <paramref name="node"/>, reported these children.</summary>
    public void Set(IForkedRoute route, ushort node, IReadOnlyList<Forked> children)
    {
        lock (_gate)
        {
            if (children.Count == 0) _byRoute.Remove(route);
            else _byRoute[route] = (node, children);
        }
    }

    /// <summary>The link ended (the copy exited and nothing it forked outlives it, it came home, or its node went away):
    /// its reports end with it.</summary>
    public void Clear(IForkedRoute route)
    {
        lock (_gate) _byRoute.Remove(route);
    }

    /// <summary>The process listed under <paramref name="pid"/>, with the link that reaches it; null if none.</summary>
    public (IForkedRoute Route, ushort Node, Forked Child)? Find(int pid)
    {
        lock (_gate)
        {
            foreach (var (route, (node, children)) in _byRoute)
                if (children.FirstOrDefault(c => c.Pid == pid) is { } child) return (route, node, child);
            return null;
        }
    }

    /// <summary>
    /// What the copies of <paramref name="deputies"/> (processes of this node that moved on) reported forking where they
    /// run: a copy away that forked them here tells its own home of them in turn, so that the job's home lists its
    /// whole tree, and reaches them through that link.
    /// </summary>
    public IReadOnlyList<(IForkedRoute Route, Forked Child)> ReportedThrough(IReadOnlySet<int> deputies)
    {
        lock (_gate)
            return [.. _byRoute.Where(r => deputies.Contains(r.Key.Deputy)).SelectMany(r => r.Value.Children.Select(c => (r.Key, c)))];
    }

    /// <summary>The PIDs of the processes <paramref name="route"/>'s copy forked itself (its direct children), as last reported.</summary>
    public IReadOnlyList<int> ChildrenOf(IForkedRoute route)
    {
        lock (_gate)
            return _byRoute.TryGetValue(route, out var report) ? [.. report.Children.Where(c => c.ParentPid == route.Deputy).Select(c => c.Pid)] : [];
    }

    /// <summary>Every one as `om ps` shows it here, at home.</summary>
    public IReadOnlyList<ProcessRow> Rows(ushort self)
    {
        lock (_gate) return [.. _byRoute.Values.SelectMany(r => r.Children).Select(c => RowOf(c, self))];
    }

    /// <summary>The one listed under <paramref name="pid"/> as `om ps` shows it; null if none.</summary>
    public ProcessRow? Row(int pid, ushort self) => Find(pid) is { } found ? RowOf(found.Child, self) : null;

    /// <summary>Those that run here, on <paramref name="self"/>, as guests of their birth node: (that node, their PID
    /// here). `om ps` lists each once, under the PID it is known by at home.</summary>
    public IReadOnlySet<(ushort Node, int Pid)> HostedHere(ushort self)
    {
        lock (_gate)
            return _byRoute.Values.SelectMany(r => r.Children.Where(c => c.Where == self && c.RemotePid > 0).Select(c => (r.Node, c.RemotePid)))
                .ToHashSet();
    }

    private static ProcessRow RowOf(Forked c, ushort self) =>
        new(c.Pid, c.Uid, self, c.Where, c.State, 0, false, [], c.CpuSeconds, c.MemoryBytes, c.Command, c.RemotePid, c.ParentPid, Origin);

    /// <summary>How `om ps` names where such a process came from.</summary>
    public const string Origin = "forked-away";
}

/// <summary>The link of a copy away that reaches what it forked on its node: `om kill` and `om migrate` at home go over it.</summary>
public interface IForkedRoute
{
    /// <summary>The deputy here of the copy whose link this is (its PID at home).</summary>
    int Deputy { get; }

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/> there: null once on its way, else why not.</summary>
    string? Signal(int pid, int signal);

    /// <summary>Has <paramref name="pid"/> moved to <paramref name="target"/> (a node id, "home": its birth node, or
    /// "balance") by its node, as that node moves its own processes; throws <see cref="Migration.MigrationException"/>
    /// with that node's reason when it did not move.</summary>
    Task<MigrationResult> MoveAsync(int pid, string target, bool? precopy);
}
