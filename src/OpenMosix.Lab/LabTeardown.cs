using Microsoft.Extensions.Logging;
using OpenMosix.Lab.Host;

namespace OpenMosix.Lab;

/// <summary>
/// Removes a lab completely, from what exists rather than from what the state file says, so it works after a crash,
/// with a missing or corrupt state file, and twice in a row. Order matters: processes first (they hold namespaces
/// and cgroups), then mounts, links, namespaces, cgroups, and the directory last.
/// </summary>
public static class LabTeardown
{
    private static readonly TimeSpan KillTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Returns what was found (empty when there was nothing to remove); throws when something could not be removed.</summary>
    public static LabInventory Remove(LabLayout layout, ILogger logger)
    {
        var found = LabInventory.Take(layout);
        if (found.IsEmpty) return found;
        logger.LogDebug("Removing lab {Lab}: {Found}", layout.Name, found.Describe());
        var failures = new List<string>();

        var survivors = LabProcesses.KillAll(layout, KillTimeout);
        if (survivors.Count > 0)
            failures.Add($"kill processes: {survivors.Count} still alive after {KillTimeout.TotalSeconds:F0} s (PIDs {string.Join(' ', survivors.Order().Take(10))})");

        failures.AddRange(MountNamespaces.UnmountUnder(layout.Root));

        // Deleting the host end of a veth deletes its peer too; the bridge goes after its ports.
        var links = IpRoute.HostLinks();
        foreach (var veth in links.Where(layout.Name.IsHostVeth)) Collect(IpRoute.TryDeleteLink(veth), failures);
        if (links.Contains(layout.Name.Bridge)) Collect(IpRoute.TryDeleteLink(layout.Name.Bridge), failures);
        foreach (var netns in IpRoute.NetworkNamespaces().Where(layout.Name.IsNetworkNamespace))
            Collect(IpRoute.TryDeleteNetworkNamespace(netns), failures);

        if (survivors.Count == 0)
        {
            failures.AddRange(NodeCgroups.RemoveTree(layout.CpuCgroupGroup));
            failures.AddRange(NodeCgroups.RemoveTree(layout.MemoryCgroupGroup));
            failures.AddRange(NodeCgroups.RemoveTree(layout.CpuacctCgroupGroup));
        }

        // Only once nothing is mounted below it: a recursive delete must never walk into a bind of a host directory.
        if (Directory.Exists(layout.Root) && !MountTable.MountPoints().Any(m => m.StartsWith(layout.Root + "/", StringComparison.Ordinal)))
        {
            try
            {
                Directory.Delete(layout.Root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failures.Add($"remove {layout.Root}: {e.Message}");
            }
        }

        if (failures.Count > 0)
            throw new LabException($"lab {layout.Name} not fully removed: {failures[0]}" +
                (failures.Count > 1 ? $" (and {failures.Count - 1} more problems; run `om lab down` again)" : ""));
        return found;
    }

    private static void Collect(ToolResult result, List<string> failures)
    {
        if (!result.Succeeded) failures.Add($"`{result.CommandLine}`: {result.Reason}");
    }
}
