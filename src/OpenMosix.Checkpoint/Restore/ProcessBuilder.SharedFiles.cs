using OpenMosix.Checkpoint.Dump;
using OpenMosix.Linux.Interop;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// Writable shared file mappings (<see cref="RegionKind.SharedFile"/>): the file is opened where it was, or created
/// there (its parent directory too) when this node never had it, by the process itself with its filesystem identity,
/// so it belongs to the process's user as the original did. Its pages are then written through the mapping, which
/// writes the file.
/// </summary>
internal sealed partial class ProcessBuilder
{
    private const long FallocPunchHole = 0x02, FallocKeepSize = 0x01;
    private const int NewFileMode = 0x180, NewDirectoryMode = 0x1ed; // 0600, 0755: what the JVM gives hsperfdata

    private sealed record SharedFile(long Fd, bool Created);

    /// <summary>
    /// Maps <paramref name="r"/> MAP_SHARED from its file (read and write, as its pages are written next; the saved
    /// protection comes with the other regions'). The file grows to the size it had, never shrinks; a file that was
    /// already there has the mapped part cleared first, so that the image's pages (zero pages are not in it) leave
    /// exactly the contents the process saw.
    /// </summary>
    private void MapSharedFile(MemoryRegion r, Dictionary<string, SharedFile> files)
    {
        if (!files.TryGetValue(r.Name, out var file)) files[r.Name] = file = OpenSharedFile(r.Name);
        if (!FileStatus.TryOf($"/proc/{pid}/fd/{file.Fd}", out var st, out var errno))
            throw new RestoreException($"cannot stat the shared mapped file {r.Name}: {errno.Describe()}");
        if (st!.Type != FileType.Regular) throw new RestoreException($"the shared mapped file {r.Name} is not a regular file here");
        if (st.Size < r.FileSize) injector.Call($"ftruncate of {r.Name}", Ftruncate, file.Fd, r.FileSize);
        var contents = RegionBuilder.ContentsEnd(r) - r.Start;
        var cleared = file.Created || contents == 0
            || injector.Raw(Fallocate, file.Fd, FallocPunchHole | FallocKeepSize, (long)r.FileOffset, (long)contents) == 0;
        var got = (ulong)injector.Call($"mmap of {r.Start:x}-{r.End:x} {r.Name}", Mmap, (long)r.Start, (long)r.Length, ProtRead | ProtWrite,
            MapShared | MapFixed, file.Fd, (long)r.FileOffset);
        if (got != r.Start) throw new RestoreException($"mmap of {r.Start:x}-{r.End:x} landed at 0x{got:x}");
        if (!cleared) ZeroThrough(r.Start, contents); // a filesystem without hole punching
    }

    /// <summary>
    /// Opens the file read-write, never through a symbolic link (a path in /tmp is anyone's to plant one at); a
    /// missing file is created with mode 0600, in a parent directory made with mode 0755 if that is missing too.
    /// </summary>
    private SharedFile OpenSharedFile(string path)
    {
        const long flags = (long)(OpenFlags.ReadWrite | OpenFlags.CloseOnExec | OpenFlags.NoFollow);
        var fd = injector.Raw(Openat, AtFdCwd, (long)PutString(path), flags, 0);
        if (fd >= 0) return new SharedFile(fd, Created: false);
        if (fd != -(long)Errno.ENOENT)
            throw new RestoreException($"cannot open the shared mapped file {path}: {Errno.FromNegated(fd).Describe()}");
        var oldMask = injector.Call("umask", Umask, 0);
        try
        {
            var parent = Path.GetDirectoryName(path);
            if (parent is { Length: > 1 } && injector.Raw(Mkdirat, AtFdCwd, (long)PutString(parent), NewDirectoryMode) is < 0 and var made
                && made != -(long)Errno.EEXIST)
                throw new RestoreException($"cannot create {parent} for the shared mapped file {path}: {Errno.FromNegated(made).Describe()}");
            fd = injector.Raw(Openat, AtFdCwd, (long)PutString(path), flags | (long)(OpenFlags.Create | OpenFlags.Exclusive), NewFileMode);
            if (fd < 0) throw new RestoreException($"cannot create the shared mapped file {path}: {Errno.FromNegated(fd).Describe()}");
            return new SharedFile(fd, Created: true);
        }
        finally
        {
            injector.Call("umask", Umask, oldMask);
        }
    }

    private void ZeroThrough(ulong start, ulong length)
    {
        var zeros = new byte[Math.Min(length, 1UL << 20)];
        for (var at = start; at < start + length; at += (ulong)zeros.Length)
            ProcessMemory.Write(pid, at, zeros.AsSpan(0, (int)Math.Min((ulong)zeros.Length, start + length - at)));
    }
}
