using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// Which processes a home node may send here (migration.guest_uids, per node migration.guest_uids_from.N) and whether
/// root's move at all (migration.allow_root_guests): a process is root's when any of its uids is 0 or any of its
/// threads holds a capability, which is as good as root. The same switch keeps this node from sending root's.
/// </summary>
public sealed record GuestPolicy(UidRanges Uids, IReadOnlyDictionary<ushort, UidRanges> UidsFrom, bool AllowRoot)
{
    /// <summary>omd's defaults: the usual range of regular users' uids, from any node; never root.</summary>
    public static GuestPolicy Default { get; } = new(UidRanges.Parse("1000-60000"), new Dictionary<ushort, UidRanges>(), false);

    /// <summary>The same lists and switch (a record compares its dictionary by reference).</summary>
    public bool Equals(GuestPolicy? other) =>
        other is not null && Uids.Equals(other.Uids) && AllowRoot == other.AllowRoot && UidsFrom.Count == other.UidsFrom.Count
        && UidsFrom.All(entry => other.UidsFrom.TryGetValue(entry.Key, out var theirs) && theirs.Equals(entry.Value));

    public override int GetHashCode() => HashCode.Combine(Uids, AllowRoot, UidsFrom.Count);

    /// <summary>Why a process of <paramref name="owner"/> from <paramref name="home"/> is not taken here, or null.</summary>
    public string? Refusal(ushort home, ProcessOwner? owner)
    {
        if (owner is null) return "the offer does not say whose process it is";
        if (owner.IsRoot && !AllowRoot)
            return $"the process is root's ({owner.Describe()}), and this node takes root processes only with migration.allow_root_guests = true";
        if (owner.IsRoot) return null;
        var (allowed, where) = UidsFrom.TryGetValue(home, out var fromHome) ? (fromHome, $"migration.guest_uids_from.{home}") : (Uids, "migration.guest_uids");
        return allowed.Contains(owner.Uid) && allowed.Contains(owner.EffectiveUid) && allowed.Contains(owner.SavedUid) && allowed.Contains(owner.FilesystemUid)
            ? null
            : $"node {home} may not send processes of uid {owner.Uid} here ({where} = \"{allowed.Text}\")";
    }
}
