using OpenMosix.Checkpoint.Dump;

namespace OpenMosix.Checkpoint.Format;

/// <summary>
/// Checks that decoded metadata describes a process the restorer can rebuild at all: sizes the kernel fixes,
/// no nulls, sane counts, and regions that are page-aligned, ascending, disjoint and in user space.
/// </summary>
internal static class MetadataValidator
{
    private const int UserRegsSize = 27 * 8;
    private const int SigInfoSize = 128;
    private const int MaxRegions = 1 << 16;
    private const int MaxFiles = 1 << 16;
    private const int MaxPendingSignals = 1 << 12;
    private const int MaxExtendedState = 1 << 16;
    /// <summary>The kernel's own limit on ids (PID_MAX_LIMIT); a comm is at most 15 bytes, 64 leaves room for UTF-16.</summary>
    private const int MaxThreads = 1 << 22, MaxThreadName = 64;
    private const ulong VsyscallPage = 0xffff_ffff_ff60_0000;

    public static RegionIndex Validate(ProcessImage image)
    {
        MetadataPresence.Check(image);
        Require(image.Cpu.GeneralRegisters.Length == UserRegsSize, $"general registers are {image.Cpu.GeneralRegisters.Length} bytes, not {UserRegsSize}");
        Require(image.Cpu.ExtendedState.Length is >= 512 and <= MaxExtendedState, $"extended state of {image.Cpu.ExtendedState.Length} bytes");
        Require(image.Signals.Actions.Length == 64, $"{image.Signals.Actions.Length} signal actions instead of 64");
        Require(image.Signals.Pending.Count <= MaxPendingSignals, $"{image.Signals.Pending.Count} pending signals");
        foreach (var pending in image.Signals.Pending)
            Require(pending.SigInfo.Length == SigInfoSize && pending.Number is >= 1 and <= 64, "a pending signal is malformed");
        Require(image.Threads.Count < MaxThreads, $"{image.Threads.Count} threads");
        Require(image.MainThread.Name.Length <= MaxThreadName, "the main thread's name is too long");
        var tids = new HashSet<int> { image.Origin.Pid };
        foreach (var thread in image.Threads)
        {
            Require(thread.Tid > 0 && tids.Add(thread.Tid), $"thread id {thread.Tid} is not positive or not unique");
            Require(thread.GeneralRegisters.Length == UserRegsSize, $"thread {thread.Tid}: general registers are {thread.GeneralRegisters.Length} bytes");
            Require(thread.ExtendedState.Length == image.Cpu.ExtendedState.Length, $"thread {thread.Tid}: extended state of {thread.ExtendedState.Length} bytes");
            Require(thread.Pending.Count <= MaxPendingSignals, $"thread {thread.Tid}: {thread.Pending.Count} pending signals");
            foreach (var pending in thread.Pending)
                Require(pending.SigInfo.Length == SigInfoSize && pending.Number is >= 1 and <= 64, $"thread {thread.Tid}: a pending signal is malformed");
            Require(thread.Settings.Name.Length <= MaxThreadName, $"thread {thread.Tid}: its name is too long");
            Require(thread.Nice is >= -20 and <= 19, $"thread {thread.Tid}: nice {thread.Nice}");
        }
        Require(image.Regions.Count is > 0 and <= MaxRegions, $"{image.Regions.Count} memory regions");
        Require(image.Files.Count <= MaxFiles, $"{image.Files.Count} file descriptors");
        Require(image.Attributes.OomScoreAdjust is >= -1000 and <= 1000, $"oom_score_adj {image.Attributes.OomScoreAdjust}");
        Require(image.Attributes.Limits.Count <= 64, $"{image.Attributes.Limits.Count} resource limits");
        foreach (var file in image.Files)
            Require(file.Fd >= 0 && file.Offset >= 0, $"file descriptor {file.Fd} at offset {file.Offset}");
        KernelObjectValidator.Validate(image);
        PrivilegeValidator.Validate(image);

        var previousEnd = 0UL;
        foreach (var region in image.Regions)
        {
            var name = region.Name.Length > 0 ? region.Name : "anonymous";
            Require(region.Start % ImageFormat.PageSize == 0 && region.End % ImageFormat.PageSize == 0 && region.Start < region.End,
                $"region 0x{region.Start:x}-0x{region.End:x} ({name}) is not a page-aligned range");
            Require(region.Start >= previousEnd, $"region 0x{region.Start:x} ({name}) overlaps the one before it");
            Require(region.End <= ImageFormat.UserSpaceEnd || (region.Kind == RegionKind.Vsyscall && region.Start == VsyscallPage),
                $"region 0x{region.Start:x}-0x{region.End:x} ({name}) is outside user space");
            if (region.Kind == RegionKind.SharedFile) ValidateSharedFile(region);
            Require(region.Kind != RegionKind.SharedAnonymous || region.Shared, $"region 0x{region.Start:x} is shared anonymous memory but not shared");
            previousEnd = region.End;
        }
        return new RegionIndex(image.Regions);
    }

    /// <summary>A pre-copy layout: its regions as for an image, and tracked ranges that are ascending, disjoint and
    /// each inside one region; page runs may fall only in those.</summary>
    public static RegionIndex Validate(PrecopyLayout layout)
    {
        MetadataPresence.Check(layout);
        Require(layout.Regions.Count is > 0 and <= MaxRegions, $"{layout.Regions.Count} memory regions");
        Require(layout.Tracked.Count <= layout.Regions.Count, $"{layout.Tracked.Count} tracked ranges");
        Require(layout.Files.Count <= MaxFiles, $"{layout.Files.Count} file descriptors");
        var previousEnd = 0UL;
        foreach (var region in layout.Regions)
        {
            Require(region.Start % ImageFormat.PageSize == 0 && region.End % ImageFormat.PageSize == 0 && region.Start < region.End && region.Start >= previousEnd,
                $"layout region 0x{region.Start:x}-0x{region.End:x} is not a page-aligned range above the one before it");
            previousEnd = region.End;
        }
        previousEnd = 0;
        var tracked = new List<MemoryRegion>();
        foreach (var range in layout.Tracked)
        {
            Require(range.Start % ImageFormat.PageSize == 0 && range.End % ImageFormat.PageSize == 0 && range.Start < range.End && range.Start >= previousEnd,
                $"tracked range 0x{range.Start:x}-0x{range.End:x} is not a page-aligned range above the one before it");
            Require(layout.Regions.Any(r => r.Start <= range.Start && range.End <= r.End && r.Kind is RegionKind.Anonymous or RegionKind.Heap or RegionKind.Stack),
                $"tracked range 0x{range.Start:x}-0x{range.End:x} is not inside an anonymous region");
            previousEnd = range.End;
            tracked.Add(new MemoryRegion { Start = range.Start, End = range.End, Protection = MemoryProtection.Read | MemoryProtection.Write, Kind = RegionKind.Anonymous });
        }
        return new RegionIndex(tracked);
    }

    /// <summary>The file is opened, created and written at its path on restore: an absolute name with no NUL and no
    /// dot components, a page-aligned offset, a size a file can have, and a mapping that was writable.</summary>
    private static void ValidateSharedFile(MemoryRegion region)
    {
        var at = $"shared file mapping 0x{region.Start:x}-0x{region.End:x}";
        Require(region.Shared && region.Protection.HasFlag(MemoryProtection.Write), $"{at} is not shared and writable");
        Require(region.Name.Length > 1 && region.Name[0] == '/' && !region.Name.EndsWith('/') && !region.Name.Contains('\0', StringComparison.Ordinal)
                && !region.Name.Split('/').Any(part => part is "." or ".."), $"{at} names no absolute file path ({region.Name})");
        Require(region.FileOffset % ImageFormat.PageSize == 0 && region.FileOffset < MaxFileSize, $"{at} has file offset {region.FileOffset}");
        Require(region.FileSize is >= 0 and < (long)MaxFileSize, $"{at} has file size {region.FileSize}");
    }

    /// <summary>The largest file ext4 or XFS hold is below 2^63; a mapping's file beyond 2^56 bytes is not real.</summary>
    private const ulong MaxFileSize = 1UL << 56;

    public static void Require(bool condition, string reason)
    {
        if (!condition) throw new CorruptImageException($"corrupt image metadata: {reason}");
    }
}

/// <summary>Finds the region of an address quickly; page runs arrive ascending, so a cursor does most lookups.</summary>
internal sealed class RegionIndex(IReadOnlyList<MemoryRegion> regions)
{
    private int _cursor;

    public bool HoldsContents(ulong address, ulong length)
    {
        var end = address + length;
        if (end < address) return false;
        while (_cursor < regions.Count && regions[_cursor].End <= address) _cursor++;
        if (_cursor == regions.Count) return false;
        var region = regions[_cursor];
        // A shared file's pages lie inside the file: beyond its end the restored mapping has no page to write.
        return address >= region.Start && end <= RegionBuilder.ContentsEnd(region) && RegionBuilder.HasContents(region);
    }
}
