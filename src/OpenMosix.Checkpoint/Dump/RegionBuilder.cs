using OpenMosix.Checkpoint.CantMove;

namespace OpenMosix.Checkpoint.Dump;

/// <summary>Turns /proc/PID/maps lines into image regions and decides how each one travels.</summary>
internal static class RegionBuilder
{
    public static MemoryRegion Build(int pid, MapsEntry m)
    {
        var protection = (m.Read ? MemoryProtection.Read : 0) | (m.Write ? MemoryProtection.Write : 0) | (m.Execute ? MemoryProtection.Execute : 0);
        var kind = m.Name switch
        {
            "[heap]" => RegionKind.Heap,
            "[stack]" => RegionKind.Stack,
            "[vdso]" => RegionKind.Vdso,
            "[vvar]" => RegionKind.Vvar,
            "[vvar_vclock]" => RegionKind.VvarVclock,
            "[vsyscall]" => RegionKind.Vsyscall,
            _ when m.Shared && HeldMemfds.IsMemfdMapping(m) => RegionKind.SharedMemfd,
            _ when SharedFileMappings.IsCandidate(m) => RegionKind.SharedFile,
            _ when SharedAnonymousMappings.IsMapping(m) => RegionKind.SharedAnonymous,
            _ when protection == MemoryProtection.None => RegionKind.Reserved,
            _ when m.Inode != 0 => RegionKind.FilePrivate,
            _ => RegionKind.Anonymous,
        };
        if (kind == RegionKind.SharedMemfd)
            return new MemoryRegion
            {
                Start = m.Start, End = m.End, Protection = protection, Kind = kind, Shared = true, Name = m.Name,
                FileOffset = m.Offset, Device = m.Device, Inode = m.Inode,
            };
        if (kind == RegionKind.SharedFile)
            return new MemoryRegion
            {
                Start = m.Start, End = m.End, Protection = protection, Kind = kind, Shared = true, Name = m.Name,
                FileOffset = m.Offset, Device = m.Device, Inode = m.Inode,
                FileSize = (SharedFileMappings.MappedFile(pid, m) ?? throw new IOException($"the file mapped at {m.Start:x}-{m.End:x} ({m.Name}) is gone")).Size,
            };
        if (kind != RegionKind.FilePrivate)
            return new MemoryRegion { Start = m.Start, End = m.End, Protection = protection, Kind = kind, Shared = m.Shared, Name = m.Name };

        // The path can be trusted for the untouched pages only if it still names the very file that is mapped.
        var trusted = !m.IsDeletedFile
            && FileStatus.TryOf($"/proc/{pid}/map_files/{m.Start:x}-{m.End:x}", out var mapped, out _)
            && FileStatus.TryOf(m.Name, out var onDisk, out _)
            && mapped!.Device == onDisk!.Device && mapped.Inode == onDisk.Inode;
        var file = trusted ? FileStatus.Of(m.Name) : null;
        return new MemoryRegion
        {
            Start = m.Start,
            End = m.End,
            Protection = protection,
            Kind = kind,
            Shared = m.Shared,
            Name = m.Name,
            FileOffset = m.Offset,
            Device = m.Device,
            Inode = m.Inode,
            FileSize = file?.Size ?? 0,
            FileModifiedNanoseconds = file?.ModifiedNanoseconds ?? 0,
            AllPagesStored = !trusted,
        };
    }

    /// <summary>Regions whose pages travel in the image (kernel mappings and reservations have no contents).</summary>
    public static bool HasContents(MemoryRegion r) =>
        r.Kind is RegionKind.Anonymous or RegionKind.Heap or RegionKind.Stack or RegionKind.FilePrivate or RegionKind.SharedFile
            or RegionKind.SharedAnonymous;

    /// <summary>
    /// The part of a <see cref="RegionKind.SharedFile"/> region inside its file, page-rounded: the process cannot read
    /// or write beyond the file's end (SIGBUS), so nothing there travels. Other regions are whole.
    /// </summary>
    public static ulong ContentsEnd(MemoryRegion r)
    {
        if (r.Kind != RegionKind.SharedFile) return r.End;
        if (r.FileSize <= 0 || (ulong)r.FileSize <= r.FileOffset) return r.Start;
        var inFile = ((ulong)r.FileSize - r.FileOffset + 0xfff) & ~0xfffUL;
        return inFile >= r.Length ? r.End : r.Start + inFile;
    }
}
