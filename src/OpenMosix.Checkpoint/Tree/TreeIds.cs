namespace OpenMosix.Checkpoint.Tree;

/// <summary>
/// Sessions and process groups of a tree, as a restore can make them again. The root keeps the session and group of
/// whoever restores it (as a single process does); every other process is made by its parent, so it starts in its
/// parent's, then calls setsid if it led its own session, and joins its group: its own, the root's, or one led by
/// another process of the tree. What no call of a process on itself can make is refused at the checkpoint.
/// </summary>
internal static class TreeIds
{
    public static List<string> Unrebuildable(IReadOnlyList<TreeProcess> processes)
    {
        var root = processes[0];
        var byPid = processes.ToDictionary(p => p.Pid);
        var reasons = new List<string>();
        foreach (var p in processes.Skip(1).Where(p => p.ExitStatus is null))
        {
            if (!LeadsSession(p) && p.Session != byPid[p.ParentPid].Session)
                reasons.Add($"process {p.Pid} is in session {p.Session}, neither its own nor its parent's");
            if (p.ProcessGroup != root.ProcessGroup && p.ProcessGroup != p.Pid
                && !(byPid.TryGetValue(p.ProcessGroup, out var leader) && leader.ExitStatus is null && leader.ProcessGroup == leader.Pid))
                reasons.Add($"process {p.Pid} is in process group {p.ProcessGroup}, whose leader is not a running process of the tree");
        }
        return reasons;
    }

    /// <summary>It called setsid: its session bears its PID.</summary>
    public static bool LeadsSession(TreeProcess p) => p.Session == p.Pid;
}
