using OpenMosix.Checkpoint.Image;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Migration.Protocol;

/// <summary>
/// Whose a process is, as an offer declares it: its uids and gids (real, effective, saved, filesystem), its groups,
/// and whether any of its threads holds a capability (in any set but the bounding one). The target takes the process
/// only if its guest policy allows this owner, and restores it only if the image says exactly the same.
/// </summary>
public sealed record ProcessOwner(uint Uid, uint EffectiveUid, uint SavedUid, uint FilesystemUid,
    uint Gid, uint EffectiveGid, uint SavedGid, uint FilesystemGid, IReadOnlyList<uint> Groups, bool Capabilities)
{
    public const int MaxGroups = 65536;

    /// <summary>Root's: a uid 0 anywhere, or a capability, which is as good as root.</summary>
    public bool IsRoot => Uid == 0 || EffectiveUid == 0 || SavedUid == 0 || FilesystemUid == 0 || Capabilities;

    public string Describe() =>
        $"uid {Uid}/{EffectiveUid}/{SavedUid}/{FilesystemUid}, gid {Gid}/{EffectiveGid}/{SavedGid}/{FilesystemGid}, groups [{string.Join(' ', Groups)}]{(Capabilities ? ", with capabilities" : "")}";

    /// <summary>The same ids, groups (in any order) and capability flag.</summary>
    public bool SameAs(ProcessOwner other) =>
        other is not null && (Uid, EffectiveUid, SavedUid, FilesystemUid, Gid, EffectiveGid, SavedGid, FilesystemGid, Capabilities)
        == (other.Uid, other.EffectiveUid, other.SavedUid, other.FilesystemUid, other.Gid, other.EffectiveGid, other.SavedGid, other.FilesystemGid, other.Capabilities)
        && Groups.Order().SequenceEqual(other.Groups.Order());

    public static ProcessOwner Of(Credentials c, bool capabilities)
    {
        ArgumentNullException.ThrowIfNull(c);
        return new(c.Uid, c.EffectiveUid, c.SavedUid, c.FilesystemUid, c.Gid, c.EffectiveGid, c.SavedGid, c.FilesystemGid, [.. c.Groups], capabilities);
    }

    /// <summary>The owner an image describes.</summary>
    public static ProcessOwner Of(ProcessImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Of(image.Attributes.Credentials,
            image.Threads.Select(t => t.Settings.Privileges).Prepend(image.MainThread.Privileges).Any(p => (p.Permitted | p.Effective | p.Inheritable | p.Ambient) != 0));
    }

    /// <summary>The owner of a running process, from /proc (its main thread's ids; every thread's capabilities).</summary>
    public static ProcessOwner Of(int pid)
    {
        var capabilities = false;
        foreach (var tid in ProcFs.ReadTasks(pid))
        {
            try
            {
                var p = TaskPrivileges.Read(pid, tid);
                capabilities |= (p.Permitted | p.Effective | p.Inheritable | p.Ambient) != 0;
            }
            catch (ProcessAccessException)
            {
                // the thread ended while we looked
            }
        }
        var status = ProcFs.ReadStatus(pid);
        var (u, g) = (status.Uid, status.Gid);
        return new(u[0], u[1], u[2], u[3], g[0], g[1], g[2], g[3], [.. status.Groups], capabilities);
    }
}
