using OpenMosix.Checkpoint.Dump;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// An image coming home is rebuilt into its deputy, the original process, which kept its ids and privileges: the
/// image must carry the same ids and no privilege the deputy lacks (a node the process visited cannot send back a
/// process that is more than it left as). Checked before the deputy is touched.
/// </summary>
internal static class DeputyPrivileges
{
    public static void Check(int pid, ProcessImage image)
    {
        var ids = ProcessInspector.ReadCredentials(ProcFs.ReadStatus(pid));
        var c = image.Attributes.Credentials;
        if (ids.Uid != c.Uid || ids.EffectiveUid != c.EffectiveUid || ids.SavedUid != c.SavedUid || ids.FilesystemUid != c.FilesystemUid
            || ids.Gid != c.Gid || ids.EffectiveGid != c.EffectiveGid || ids.SavedGid != c.SavedGid || ids.FilesystemGid != c.FilesystemGid
            || !ids.Groups.Order().SequenceEqual(c.Groups.Order()))
            throw new RestoreException($"the image's credentials (uid {c.Uid}/{c.EffectiveUid}/{c.SavedUid}, gid {c.Gid}/{c.EffectiveGid}/{c.SavedGid}) are not those of process {pid} (uid {ids.Uid}/{ids.EffectiveUid}/{ids.SavedUid}, gid {ids.Gid}/{ids.EffectiveGid}/{ids.SavedGid})");
        var have = TaskPrivileges.Read(pid, pid);
        var filters = have.SeccompMode == 2 ? Ptrace.GetSeccompFilters(pid) : [];
        foreach (var (who, p) in image.Threads.Select(t => ($"thread {t.Tid}", t.Settings.Privileges)).Prepend(("the main thread", image.MainThread.Privileges)))
        {
            if ((p.Permitted & ~have.Permitted) != 0 || (p.Inheritable & ~(have.Inheritable | have.Permitted)) != 0 || (p.Bounding & ~have.Bounding) != 0)
                throw new RestoreException($"the image gives {who} capabilities process {pid} does not have (permitted {p.Permitted:x} against {have.Permitted:x}, bounding {p.Bounding:x} against {have.Bounding:x})");
            if (have.NoNewPrivs && !p.NoNewPrivs)
                throw new RestoreException($"the image clears no_new_privs of {who}, which process {pid} has");
            if (!ProcessBuilder.Begins(filters, p.SeccompFilters))
                throw new RestoreException($"the image leaves out seccomp filters {who} of process {pid} runs under");
        }
    }
}
