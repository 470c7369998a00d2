using OpenMosix.Checkpoint.CantMove;

namespace OpenMosix.Checkpoint.Dump;

/// <summary>State of a frozen process that can be read without running anything inside it.</summary>
internal static class ProcessInspector
{
    // glibc 2.36 keeps the thread id in struct pthread at this offset from the thread pointer (fs_base).
    private const ulong GlibcTidOffset = 0x2d0;
    private static readonly byte[] SyscallOpcode = [0x0f, 0x05];

    /// <param name="forward">a migration: descriptors home can serve become <see cref="FileKind.Forwarded"/> records.</param>
    /// <param name="forwarded">descriptors forwarded already (a moved copy's placeholders): recorded as forwarded again.</param>
    /// <param name="homePaths">with <paramref name="forward"/>: files below these are forwarded too.</param>
    public static List<FileDescriptorRecord> ReadFiles(int pid, bool forward = false, IReadOnlySet<int>? forwarded = null, HomePaths? homePaths = null)
    {
        var files = new List<FileDescriptorRecord>();
        var descriptors = ProcFs.ReadDescriptors(pid);
        var internalPipes = InternalPipes.Find(pid, descriptors);
        var peeked = new HashSet<string>(StringComparer.Ordinal);
        var kernelObjects = new KernelObjectReader(pid);
        foreach (var (fd, target) in descriptors.OrderBy(d => d.Fd))
        {
            if (!FileStatus.TryOf($"/proc/{pid}/fd/{fd}", out var st, out _)) continue;
            if (forwarded?.Contains(fd) == true || (forward && ForwardedDescriptors.IsForwarded(fd, target, st!.Type, internalPipes, homePaths)))
            {
                files.Add(new FileDescriptorRecord { Fd = fd, Kind = FileKind.Forwarded, Path = target, CloseOnExec = ProcFs.ReadFdInfo(pid, fd).CloseOnExec });
                continue;
            }
            var kernelObject = kernelObjects.KindOf(fd, target, st!);
            var kind = kernelObject ?? (!target.StartsWith("pipe:", StringComparison.Ordinal) ? DescriptorClassifier.KindOf(target, st!.Type)
                : internalPipes.Contains(target) ? FileKind.InternalPipe : FileKind.Pipe);
            if (kind is null || (kernelObject is null && target.EndsWith(" (deleted)", StringComparison.Ordinal)))
                throw new CantMoveException(new CantMoveReport(pid, [$"fd {fd} cannot be moved ({target})"]));
            var info = ProcFs.ReadFdInfo(pid, fd);
            var record = new FileDescriptorRecord
            {
                Fd = fd,
                Kind = kind.Value,
                Path = target,
                Flags = info.Flags,
                Offset = info.Position,
                CloseOnExec = info.CloseOnExec,
                Device = st!.Device,
                Inode = st.Inode,
                Size = kind == FileKind.RegularFile ? st.Size : 0,
                PipeContents = kind == FileKind.InternalPipe && !InternalPipes.IsWriteEnd(info.Flags) && peeked.Add(target)
                    ? PeekPipe(pid, fd) : [],
            };
            files.Add(kernelObject is null ? record : kernelObjects.Read(record, st!, files));
        }
        return files;
    }

    /// <summary>The bytes waiting in a pipe the process holds, copied without taking them out of it.</summary>
    private static byte[] PeekPipe(int pid, int fd)
    {
        using var process = PidFd.Open(pid);
        using var readEnd = process.GetFd(fd);
        return PipePeek.BufferedBytes(readEnd);
    }

    public static List<ResourceLimit> ReadLimits(int pid)
    {
        var limits = ProcFs.ReadLimits(pid);
        if (limits.Count != ResourceLimits.Count)
            throw new FormatException($"/proc/{pid}/limits lists {limits.Count} limits, expected {ResourceLimits.Count}");
        return [.. limits.Select(l => new ResourceLimit(l.Soft, l.Hard))];
    }

    public static Credentials ReadCredentials(ProcStatus status) => new()
    {
        Uid = status.Uid[0],
        EffectiveUid = status.Uid[1],
        SavedUid = status.Uid[2],
        FilesystemUid = status.Uid[3],
        Gid = status.Gid[0],
        EffectiveGid = status.Gid[1],
        SavedGid = status.Gid[2],
        FilesystemGid = status.Gid[3],
        Groups = [.. status.Groups],
    };

    /// <summary>The address of glibc's cached tid if it holds the pid (so that it can be fixed on a new pid).</summary>
    public static ulong FindCachedTid(int pid, ulong fsBase)
    {
        if (fsBase == 0) return 0;
        Span<byte> value = stackalloc byte[4];
        try
        {
            ProcessMemory.Read(pid, fsBase + GlibcTidOffset, value);
        }
        catch (SyscallException)
        {
            return 0;
        }
        return BinaryPrimitives.ReadInt32LittleEndian(value) == pid ? fsBase + GlibcTidOffset : 0;
    }

    /// <summary>The address of a `syscall` instruction (0f 05) in the process's own code, used for injection.</summary>
    public static ulong FindSyscallInstruction(int pid, IEnumerable<MemoryRegion> regions)
    {
        var buffer = new byte[64 * 1024];
        foreach (var r in regions.Where(r => r.Protection.HasFlag(MemoryProtection.Execute) && r.Protection.HasFlag(MemoryProtection.Read)
                                             && r.Kind is RegionKind.FilePrivate or RegionKind.Anonymous))
        {
            for (var at = r.Start; at < r.End; at += (ulong)buffer.Length - 1)
            {
                var length = (int)Math.Min((ulong)buffer.Length, r.End - at);
                try
                {
                    ProcessMemory.Read(pid, at, buffer.AsSpan(0, length));
                }
                catch (SyscallException)
                {
                    break;
                }
                var index = buffer.AsSpan(0, length).IndexOf(SyscallOpcode);
                if (index >= 0) return at + (ulong)index;
            }
        }
        return 0;
    }

    // /proc/cpuinfo is slow to generate (the kernel samples every CPU's frequency) and never changes: read it once.
    private static readonly Lazy<string> CpuFeatures = new(ReadCpuFeaturesUncached);

    public static string ReadCpuFeatures() => CpuFeatures.Value;

    private static string ReadCpuFeaturesUncached()
    {
        foreach (var line in File.ReadLines("/proc/cpuinfo"))
        {
            if (!line.StartsWith("flags", StringComparison.Ordinal)) continue;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            return string.Join(' ', line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        }
        return "";
    }
}
