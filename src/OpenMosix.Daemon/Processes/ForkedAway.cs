namespace OpenMosix.Daemon.Processes;

/// <summary>
/// Processes this node's copies forked on the nodes they run on (remote fork), as those nodes report them over each
/// copy's link: home is their home too, so `om ps` here lists them (with the node they run on, and the deputy of the
/// copy that forked them as parent) and `om kill` here reaches them. They stay the real children of their copy there,
/// which waits for them: what is kept here is only each node's last report, replaced whole by the next one and dropped
/// when the copy's link ends.
/// </summary>
public sealed class ForkedAway
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, (ushort Node, IReadOnlyList<Forked> Children)> _byDeputy = [];

    /// <summary>One such process: its PID on its birth node, and how it is listed here.</summary>
    public sealed record Forked(int Pid, int ParentPid, int Uid, ushort Where, int RemotePid, string State, string Command,
        double CpuSeconds, long MemoryBytes);

    /// <summary>The copy of <paramref name="deputyPid"/>, on <paramref name="node"/>, reported these children.</summary>
    public void Set(int deputyPid, ushort node, IReadOnlyList<Forked> children)
    {
        lock (_gate)
        {
            if (children.Count == 0) _byDeputy.Remove(deputyPid);
            else _byDeputy[deputyPid] = (node, children);
        }
    }

    /// <summary>The copy's link ended (it exited, came home, or its node went away): its reports end with it.</summary>
    public void Clear(int deputyPid)
    {
        lock (_gate) _byDeputy.Remove(deputyPid);
    }

    /// <summary>The process listed under <paramref name="pid"/>, with the deputy whose link reaches it; null if none.</summary>
    public (int DeputyPid, ushort Node, Forked Child)? Find(int pid)
    {
        lock (_gate)
        {
            foreach (var (deputy, (node, children)) in _byDeputy)
                if (children.FirstOrDefault(c => c.Pid == pid) is { } child) return (deputy, node, child);
            return null;
        }
    }

    /// <summary>Every one as `om ps` shows it here, at home.</summary>
    public IReadOnlyList<ProcessRow> Rows(ushort self)
    {
        lock (_gate) return [.. _byDeputy.Values.SelectMany(r => r.Children).Select(c => RowOf(c, self))];
    }

    /// <summary>The one listed under <paramref name="pid"/> as `om ps` shows it; null if none.</summary>
    public ProcessRow? Row(int pid, ushort self) => Find(pid) is { } found ? RowOf(found.Child, self) : null;

    private static ProcessRow RowOf(Forked c, ushort self) =>
        new(c.Pid, c.Uid, self, c.Where, c.State, 0, false, [], c.CpuSeconds, c.MemoryBytes, c.Command, c.RemotePid, c.ParentPid, Origin);

    /// <summary>How `om ps` names where such a process came from.</summary>
    public const string Origin = "forked-away";
}
