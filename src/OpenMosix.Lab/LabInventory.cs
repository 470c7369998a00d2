using OpenMosix.Lab.Host;

namespace OpenMosix.Lab;

/// <summary>
/// What exists of a lab on this machine, found by name alone (the state file may be gone after a crash): its directory,
/// network namespaces, host links, cgroups, mounts and processes.
/// </summary>
public sealed record LabInventory(
    LabLayout Layout,
    bool Directory,
    IReadOnlyList<string> NetworkNamespaces,
    IReadOnlyList<string> Links,
    IReadOnlyList<string> Cgroups,
    IReadOnlyList<string> Mounts,
    IReadOnlySet<int> Processes)
{
    public bool IsEmpty => !Directory && NetworkNamespaces.Count == 0 && Links.Count == 0 && Cgroups.Count == 0
        && Mounts.Count == 0 && Processes.Count == 0;

    public static LabInventory Take(LabLayout layout)
    {
        var name = layout.Name;
        var links = IpRoute.HostLinks().Where(l => l == name.Bridge || name.IsHostVeth(l)).Order(StringComparer.Ordinal).ToList();
        var netns = IpRoute.NetworkNamespaces().Where(name.IsNetworkNamespace).Order(StringComparer.Ordinal).ToList();
        var cgroups = new[] { layout.CpuCgroupGroup, layout.MemoryCgroupGroup, layout.CpuacctCgroupGroup }.Where(System.IO.Directory.Exists).ToList();
        var mounts = MountTable.MountPoints().Where(m => m == layout.Root || m.StartsWith(layout.Root + "/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        return new LabInventory(layout, System.IO.Directory.Exists(layout.Root), netns, links, cgroups, mounts, LabProcesses.Find(layout));
    }

    /// <summary>Every lab name with something left on this machine: a directory under /run/omlab or an omlab-* cgroup.</summary>
    public static IReadOnlyList<LabName> AllNames()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        if (System.IO.Directory.Exists(LabLayout.LabsRoot))
            foreach (var dir in System.IO.Directory.EnumerateDirectories(LabLayout.LabsRoot)) names.Add(Path.GetFileName(dir));
        foreach (var root in new[] { LabLayout.CgroupCpuRoot, LabLayout.CgroupMemoryRoot, LabLayout.CgroupCpuacctRoot })
            if (System.IO.Directory.Exists(root))
                foreach (var dir in System.IO.Directory.EnumerateDirectories(root, LabName.CgroupPrefix + "*"))
                    names.Add(Path.GetFileName(dir)[LabName.CgroupPrefix.Length..]);
        var result = new List<LabName>();
        foreach (var n in names)
            if (LabName.TryParse(n, out var name)) result.Add(name!);
        return result;
    }

    public string Describe()
    {
        var parts = new List<string>();
        if (Directory) parts.Add(Layout.Root);
        if (NetworkNamespaces.Count > 0) parts.Add($"network namespaces {string.Join(' ', NetworkNamespaces)}");
        if (Links.Count > 0) parts.Add($"links {string.Join(' ', Links)}");
        if (Cgroups.Count > 0) parts.Add($"cgroups {string.Join(' ', Cgroups)}");
        if (Mounts.Count > 0) parts.Add($"{Mounts.Count} mounts");
        if (Processes.Count > 0) parts.Add($"{Processes.Count} processes");
        return string.Join(", ", parts);
    }
}
