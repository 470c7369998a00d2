using System.Diagnostics;
using System.Globalization;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Lab.Host;

/// <summary>
/// Every process that belongs to a lab: in one of its cgroups, or (if something entered a node without joining its
/// cgroups, e.g. `ip netns exec`) in one of its network or mount namespaces.
/// </summary>
public static class LabProcesses
{
    public static IReadOnlySet<int> Find(LabLayout layout) =>
        Find([layout.CpuCgroupGroup, layout.MemoryCgroupGroup, layout.CpuacctCgroupGroup], NamespaceInodes(layout));

    /// <summary>
    /// Every process of one node: in its cgroups, or in its network or mount namespace. All nodes share the host's PID
    /// namespace, so membership is the only thing that tells a node's processes from the others'.
    /// </summary>
    public static IReadOnlySet<int> FindInNode(LabLayout layout, int node)
    {
        var namespaces = new HashSet<ulong>();
        AddInode(layout.NetnsFile(node), namespaces);
        AddInode(layout.MountNamespaceFile(node), namespaces);
        return Find([layout.CpuCgroup(node), layout.MemoryCgroup(node), layout.CpuacctCgroup(node)], namespaces);
    }

    private static HashSet<int> Find(IEnumerable<string> cgroups, HashSet<ulong> namespaces)
    {
        var found = new HashSet<int>();
        foreach (var cgroup in cgroups) found.UnionWith(NodeCgroups.ProcessesUnder(cgroup));
        if (namespaces.Count > 0)
            foreach (var pid in ProcessTable.Pids())
                if (InAny(pid, "net", namespaces) || InAny(pid, "mnt", namespaces)) found.Add(pid);
        // `om lab down` run from inside a node must not kill itself half-way.
        found.Remove(Environment.ProcessId);
        return found;
    }

    /// <summary>SIGKILLs every process of the lab until none is left, within <paramref name="timeout"/>; returns what survived.</summary>
    public static IReadOnlySet<int> KillAll(LabLayout layout, TimeSpan timeout) => KillUntilNone(() => Find(layout), timeout);

    /// <summary>The same for one node: its processes die, the other nodes' are untouched.</summary>
    public static IReadOnlySet<int> KillAllInNode(LabLayout layout, int node, TimeSpan timeout) =>
        KillUntilNone(() => FindInNode(layout, node), timeout);

    // Listed again after each round: a process may fork between the listing and its SIGKILL.
    private static IReadOnlySet<int> KillUntilNone(Func<IReadOnlySet<int>> find, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var alive = find();
            if (alive.Count == 0 || clock.Elapsed > timeout) return alive;
            foreach (var pid in alive)
            {
                try
                {
                    Signals.Kill(pid, Signals.SIGKILL);
                }
                catch (ProcessAccessException)
                {
                    // Gone between listing and killing: what we wanted.
                }
            }
            // A killed process leaves its cgroup when it has finished exiting; look again shortly.
            Thread.Sleep(10);
        }
    }

    /// <summary>The nsfs inodes of the lab's network and mount namespaces that still exist.</summary>
    private static HashSet<ulong> NamespaceInodes(LabLayout layout)
    {
        var inodes = new HashSet<ulong>();
        foreach (var netns in IpRoute.NetworkNamespaces().Where(layout.Name.IsNetworkNamespace))
            AddInode(Path.Combine(LabLayout.NetnsRoot, netns), inodes);
        if (Directory.Exists(layout.MountNamespaceDirectory))
            foreach (var file in Directory.EnumerateFiles(layout.MountNamespaceDirectory, "*.mnt")) AddInode(file, inodes);
        return inodes;
    }

    private static void AddInode(string nsFile, HashSet<ulong> inodes)
    {
        // Only a file that still is an nsfs mount names a namespace: nsfs is the file system of /proc/self/ns/*.
        var nsfs = FileStatus.Of("/proc/self/ns/net").Device;
        if (FileStatus.TryOf(nsFile, out var status, out _) && status!.Device == nsfs) inodes.Add(status.Inode);
    }

    private static bool InAny(int pid, string kind, HashSet<ulong> inodes)
    {
        // The link reads "net:[4026532177]"; a process that has exited (or a zombie) has none.
        string? target;
        try
        {
            target = new FileInfo($"/proc/{pid}/ns/{kind}").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        if (target is null) return false;
        var open = target.IndexOf('[');
        var close = target.IndexOf(']');
        return open > 0 && close > open
            && ulong.TryParse(target.AsSpan(open + 1, close - open - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var inode)
            && inodes.Contains(inode);
    }
}
