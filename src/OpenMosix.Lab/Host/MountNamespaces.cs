namespace OpenMosix.Lab.Host;

/// <summary>
/// Persistent mount namespaces, one per node, each kept alive by an nsfs bind mount on a file (no process needed).
/// In each, the node's daemon directory /run/openmosix is a bind of the node's run directory on the host.
/// </summary>
public static class MountNamespaces
{
    /// <summary>
    /// Makes <paramref name="directory"/> a private bind mount of itself: an nsfs file may not be bound onto a mount that
    /// propagates (it would create a reference loop), and / is shared on systemd machines.
    /// </summary>
    public static void PrepareHolder(string directory)
    {
        Directory.CreateDirectory(directory);
        if (!MountTable.MountPoints().Contains(directory))
            ToolRun.Run("bind the mount namespace directory", "mount", "--bind", directory, directory);
        ToolRun.Run("make the mount namespace directory private", "mount", "--make-private", directory);
    }

    /// <summary>Creates a mount namespace kept in <paramref name="file"/> in which <paramref name="target"/> shows <paramref name="source"/>.</summary>
    public static void Create(string file, string source, string target)
    {
        File.WriteAllBytes(file, []);
        // The mount point must exist for the bind; creating it on the host is harmless (it stays empty there).
        Directory.CreateDirectory(target);
        ToolRun.Run($"create mount namespace {Path.GetFileName(file)}", "unshare", $"--mount={file}", "--propagation", "private",
            "--", "mount", "--bind", source, target);
    }

    /// <summary>Unmounts everything at or below <paramref name="root"/>, deepest first; returns what could not be unmounted.</summary>
    public static IReadOnlyList<string> UnmountUnder(string root)
    {
        var failures = new List<string>();
        var mounts = MountTable.MountPoints().Where(m => m == root || m.StartsWith(root + "/", StringComparison.Ordinal))
            .OrderByDescending(m => m.Length);
        foreach (var mount in mounts)
        {
            // A mount point can be stacked (mounted twice); unmount until it is gone.
            for (var layer = 0; layer < 8 && MountTable.MountPoints().Contains(mount); layer++)
            {
                var result = ToolRun.TryRun($"unmount {mount}", "umount", mount);
                if (!result.Succeeded) result = ToolRun.TryRun($"unmount {mount}", "umount", "--lazy", mount);
                if (!result.Succeeded)
                {
                    failures.Add($"unmount {mount}: {result.Reason}");
                    break;
                }
            }
        }
        return failures;
    }
}
