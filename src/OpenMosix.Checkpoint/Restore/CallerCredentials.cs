using OpenMosix.Checkpoint.Dump;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// Who may restore an image. Root may restore anyone's; any other user only an image whose ids the kernel would let
/// them take (setresuid/setresgid to ids they hold, the supplementary groups they already have: setgroups needs
/// CAP_SETGID even to set the same list). Checked before anything is started, so the refusal is one line, not a
/// half-built process failing in setgroups.
/// </summary>
public static class CallerCredentials
{
    public static void RequireRestorable(Credentials image) =>
        RequireRestorable(image, Environment.IsPrivilegedProcess ? null : ProcessInspector.ReadCredentials(ProcFs.ReadStatus(Environment.ProcessId)));

    /// <summary><paramref name="caller"/> null: root, who may restore any image.</summary>
    public static void RequireRestorable(Credentials image, Credentials? caller)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (caller is null) return;
        uint[] uids = [caller.Uid, caller.EffectiveUid, caller.SavedUid];
        uint[] gids = [caller.Gid, caller.EffectiveGid, caller.SavedGid];
        if (new[] { image.Uid, image.EffectiveUid, image.SavedUid, image.FilesystemUid }.All(uids.Contains)
            && new[] { image.Gid, image.EffectiveGid, image.SavedGid, image.FilesystemGid }.All(gids.Contains)
            && SameGroups(image.Groups, caller.Groups))
            return;
        throw new RestoreException(
            $"the image is of a process of uid {image.Uid} (gid {image.Gid}, groups {Describe(image.Groups)}) and you are uid " +
            $"{caller.Uid} (gid {caller.Gid}, groups {Describe(caller.Groups)}): only root may restore a process with other credentials");
    }

    /// <summary>Supplementary groups compared as sets: their order carries no meaning.</summary>
    public static bool SameGroups(IEnumerable<uint> a, IEnumerable<uint> b) => a.ToHashSet().SetEquals(b);

    private static string Describe(IReadOnlyCollection<uint> groups) => groups.Count == 0 ? "none" : string.Join(',', groups);
}
