using System.Collections.Immutable;

namespace OpenMosix.Cluster.Map;

/// <summary>What a reload changes: node ids that appeared, disappeared, or kept their id but changed addresses.</summary>
public sealed record MapDiff(ImmutableArray<ushort> Added, ImmutableArray<ushort> Removed, ImmutableArray<ushort> Changed)
{
    public bool IsEmpty => Added.IsEmpty && Removed.IsEmpty && Changed.IsEmpty;
}
