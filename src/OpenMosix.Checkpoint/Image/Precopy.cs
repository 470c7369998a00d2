namespace OpenMosix.Checkpoint.Image;

/// <summary>A page-aligned range of addresses [Start, End).</summary>
public readonly record struct AddressRange(ulong Start, ulong End)
{
    public ulong Length => End - Start;
}

/// <summary>
/// What one pre-copy round describes: the process's layout when tracking began (enough for the target to build a
/// stub with the same address space and start filling it while the process still runs at home) and the regions
/// whose pages travel in rounds. Round 1 carries every touched page of them, later rounds the pages written since.
/// </summary>
public sealed record PrecopyLayout
{
    public required int Pid { get; init; }
    public required string Command { get; init; }
    public int Round { get; init; }
    public ulong StartBrk { get; init; }
    public ulong Brk { get; init; }
    /// <summary>Every mapping at the start of tracking (vdso/vvar placement, free room for the restore trampoline).</summary>
    public List<MemoryRegion> Regions { get; init; } = [];
    /// <summary>The private anonymous regions under write tracking whose pages the rounds carry.</summary>
    public List<AddressRange> Tracked { get; init; } = [];
    /// <summary>The descriptors at the start of tracking: the target prepares the stand-ins for pipes and terminals.</summary>
    public List<FileDescriptorRecord> Files { get; init; } = [];
}

/// <summary>
/// In the final image of a pre-copied migration: the regions whose contents the target already holds from the
/// rounds. Their page runs in this image are only the pages written (or discarded) since, and are sent even when
/// they are all zeros, because they replace what the target has.
/// </summary>
public sealed class PrecopyDelta
{
    public List<AddressRange> Kept { get; init; } = [];
    public int Rounds { get; init; }

    /// <summary>
    /// Post-copy after the rounds: the pages of kept regions that changed since the last round, left out of this
    /// image (ascending, disjoint, page-aligned, each inside one kept region). The target drops what it holds of them
    /// and fetches them from the frozen original like the rest of a post-copy. Empty for a frozen final image.
    /// </summary>
    public List<AddressRange> Missing { get; init; } = [];
}
