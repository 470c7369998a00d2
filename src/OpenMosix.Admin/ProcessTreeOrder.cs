namespace OpenMosix.Admin;

/// <summary>
/// `om ps --tree`: each process after its parent, depth first, children in PID order. A process whose parent is not
/// in the list (started with om run, a guest, or its parent gone) is a root. Pure.
/// </summary>
public static class ProcessTreeOrder
{
    public static List<(ProcessRow Row, int Depth)> Order(IReadOnlyList<ProcessRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var present = rows.Select(r => r.Pid).ToHashSet();
        var children = rows.Where(r => r.ParentPid != 0 && r.ParentPid != r.Pid && present.Contains(r.ParentPid))
            .ToLookup(r => r.ParentPid);
        var ordered = new List<(ProcessRow, int)>();
        var placed = new HashSet<int>();
        void Visit(ProcessRow row, int depth)
        {
            if (!placed.Add(row.Pid)) return;
            ordered.Add((row, depth));
            foreach (var child in children[row.Pid].OrderBy(c => c.Pid)) Visit(child, depth + 1);
        }
        foreach (var root in rows.Where(r => r.ParentPid == 0 || r.ParentPid == r.Pid || !present.Contains(r.ParentPid)).OrderBy(r => r.Pid))
            Visit(root, 0);
        // A cycle (PIDs reused while the list was read) has no root: shown flat rather than lost.
        foreach (var rest in rows.Where(r => !placed.Contains(r.Pid)).OrderBy(r => r.Pid)) Visit(rest, 0);
        return ordered;
    }
}
