using System.Text;
using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Linux.Interop;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// One restore in progress: the stub's pid, its injector and the image. Each step is a batch of syscalls injected
/// into the stub; the order of the steps is the Restorer's.
/// </summary>
internal sealed partial class ProcessBuilder(int pid, ProcessImage image, SyscallInjector injector, ulong trampoline, AddressSpace space, ILogger logger)
{
    private readonly ulong _data = trampoline + StubElf.DataOffset;

    public void ReplaceStubAddressSpace(ulong brkSegment)
    {
        var stub = ProcFs.ReadMaps(pid);
        foreach (var m in stub)
        {
            if (Restorer.SpecialNames.Contains(m.Name) || m.Name == "[vsyscall]") continue;
            UnmapOutside(injector, m, trampoline);
        }
        MoveSpecialMappings([.. stub.Where(m => Restorer.SpecialNames.Contains(m.Name))]);

        if (brkSegment != 0)
        {
            var start = (ulong)injector.Call("brk(0)", Brk, 0);
            if (start != image.Attributes.StartBrk)
                throw new RestoreException($"the stub's break starts at 0x{start:x}, not at the image's 0x{image.Attributes.StartBrk:x}");
            if (image.Attributes.Brk > start)
            {
                var end = (ulong)injector.Call("brk", Brk, (long)image.Attributes.Brk);
                if (end != image.Attributes.Brk) throw new RestoreException($"brk(0x{image.Attributes.Brk:x}) gave 0x{end:x}: the heap cannot be rebuilt");
            }
        }
    }

    /// <summary>
    /// Unmaps the parts of <paramref name="m"/> outside the trampoline segment. A trampoline mapped next to another
    /// anonymous RWX mapping (a deputy's old one) is merged with it into one VMA, so whole-mapping munmaps would
    /// take the trampoline along.
    /// </summary>
    internal static void UnmapOutside(SyscallInjector injector, MapsEntry m, ulong trampoline)
    {
        var end = trampoline + StubElf.TrampolineSize;
        if (m.End <= trampoline || m.Start >= end)
        {
            injector.Call($"munmap of {m.Start:x}-{m.End:x}", Munmap, (long)m.Start, (long)m.Length);
            return;
        }
        if (m.Start < trampoline) injector.Call($"munmap of {m.Start:x}-{trampoline:x}", Munmap, (long)m.Start, (long)(trampoline - m.Start));
        if (m.End > end) injector.Call($"munmap of {end:x}-{m.End:x}", Munmap, (long)end, (long)(m.End - end));
    }

    // vdso and vvar are moved whole with mremap (the kernel then updates its own record of the vdso), first to
    // a free temporary area and from there to the image's addresses, so no move can overlap another.
    private void MoveSpecialMappings(List<MapsEntry> specials)
    {
        if (specials.Count == 0) return;
        foreach (var m in specials)
        {
            var wanted = image.Regions.FirstOrDefault(r => r.Name == m.Name)
                ?? throw new RestoreException($"this kernel has {m.Name} but the image has none: the image is from a different kernel build");
            if (wanted.Length != m.Length)
                throw new RestoreException($"{m.Name} is {m.Length / 4096} pages here but {wanted.Length / 4096} in the image: the image is from a different kernel build");
            space.Reserve(m.Start, m.End);
        }
        foreach (var r in image.Regions.Where(r => r.Kind is RegionKind.Vdso or RegionKind.Vvar or RegionKind.VvarVclock))
            if (!specials.Any(m => m.Name == r.Name))
                throw new RestoreException($"the image has {r.Name} but this kernel does not: the image is from a different kernel build");

        var low = specials.Min(m => m.Start);
        var span = specials.Max(m => m.End) - low;
        var temp = space.FindFree(span, 1UL << 32, 1UL << 46);
        if (temp == 0) throw new RestoreException("no free room to move vdso/vvar through");
        foreach (var m in specials) Move(m.Name, m.Start, temp + (m.Start - low), m.Length);
        foreach (var m in specials) Move(m.Name, temp + (m.Start - low), image.Regions.First(r => r.Name == m.Name).Start, m.Length);
    }

    private void Move(string name, ulong from, ulong to, ulong length)
    {
        if (from == to) return;
        var r = injector.Call($"mremap of {name}", Mremap, (long)from, (long)length, (long)length, MremapMayMove | MremapFixed, (long)to);
        if ((ulong)r != to) throw new RestoreException($"mremap of {name} to 0x{to:x} landed at 0x{r:x}");
    }

    public void MapRegions(Func<MemoryRegion, bool>? keep = null)
    {
        var heapEnd = Restorer.PageAlign(image.Attributes.Brk);
        var openFiles = new Dictionary<string, long>(StringComparer.Ordinal);
        var sharedFiles = new Dictionary<string, SharedFile>(StringComparer.Ordinal);
        try
        {
            foreach (var r in image.Regions)
            {
                if (r.Kind is RegionKind.Vdso or RegionKind.Vvar or RegionKind.VvarVclock or RegionKind.Vsyscall) continue;
                if (keep?.Invoke(r) == true) continue;
                if (r.Kind == RegionKind.Heap && r.Start >= image.Attributes.StartBrk && r.End <= heapEnd && image.Attributes.Brk > image.Attributes.StartBrk) continue;
                if (r.Kind == RegionKind.SharedFile)
                {
                    MapSharedFile(r, sharedFiles);
                    continue;
                }
                // A read-only shared file mapping is mapped shared again: its contents are the file's.
                var sharedFile = r.Shared && r.Kind == RegionKind.FilePrivate && !r.AllPagesStored;
                long prot = r.Kind == RegionKind.Reserved || sharedFile ? (long)r.Protection : ProtRead | ProtWrite;
                long flags = (sharedFile || r.Kind == RegionKind.SharedAnonymous ? MapShared : MapPrivate) | MapFixed | (r.Kind == RegionKind.Stack ? MapGrowsDown : 0);
                long fd = -1;
                if (MappedFromFile(r))
                {
                    if (!openFiles.TryGetValue(r.Name, out fd))
                    {
                        CheckUnchanged(r);
                        fd = injector.Call($"open of mapped file {r.Name}", Openat, AtFdCwd, (long)PutString(r.Name), 0);
                        openFiles[r.Name] = fd;
                    }
                }
                else
                {
                    flags |= MapAnonymous;
                }
                var got = (ulong)injector.Call($"mmap of {r.Start:x}-{r.End:x} {r.Name}", Mmap, (long)r.Start, (long)r.Length, prot, flags, fd, fd >= 0 ? (long)r.FileOffset : 0);
                if (got != r.Start) throw new RestoreException($"mmap of {r.Start:x}-{r.End:x} landed at 0x{got:x}");
            }
        }
        finally
        {
            foreach (var fd in openFiles.Values.Concat(sharedFiles.Values.Select(f => f.Fd))) injector.Raw(Close, fd);
        }
    }

    /// <summary>Whether the break of the image holds <paramref name="r"/>: rebuilt with brk(), never mapped.</summary>
    public bool IsBrkHeap(MemoryRegion r) =>
        r.Kind == RegionKind.Heap && r.Start >= image.Attributes.StartBrk && r.End <= Restorer.PageAlign(image.Attributes.Brk) && image.Attributes.Brk > image.Attributes.StartBrk;

    /// <summary>A private file mapping whose untouched pages come from the file again; all else is anonymous memory.</summary>
    public static bool MappedFromFile(MemoryRegion r) => r.Kind == RegionKind.FilePrivate && !r.AllPagesStored;

    private static void CheckUnchanged(MemoryRegion r)
    {
        if (!FileStatus.TryOf(r.Name, out var st, out var errno))
            throw new RestoreException($"mapped file {r.Name} is missing here ({errno.Name()})");
        if (st!.Size != r.FileSize || st.ModifiedNanoseconds != r.FileModifiedNanoseconds)
            throw new RestoreException($"mapped file {r.Name} changed since the checkpoint (size {st.Size}, was {r.FileSize})");
    }

    public void ProtectRegions()
    {
        foreach (var r in image.Regions)
        {
            if (r.Kind is RegionKind.Vdso or RegionKind.Vvar or RegionKind.VvarVclock or RegionKind.Vsyscall or RegionKind.Reserved) continue;
            if (r.Protection == (MemoryProtection.Read | MemoryProtection.Write)) continue;
            if (r.Shared && r.Kind == RegionKind.FilePrivate && !r.AllPagesStored) continue; // mapped with its protection
            injector.Call($"mprotect of {r.Start:x}-{r.End:x}", Mprotect, (long)r.Start, (long)r.Length, (long)r.Protection);
        }
    }

    /// <param name="forward">a migration target: forwarded descriptors get a placeholder. Otherwise (a process coming
    /// home into its deputy) the deputy's own descriptor stands in for each, and one it no longer has stays closed.</param>
    public void RestoreFiles(IReadOnlyDictionary<int, int> inherited, bool forward = false)
    {
        foreach (var fd in inherited.Keys.Where(fd => image.Files.All(f => f.Fd != fd)))
            injector.Raw(Close, fd);
        RestoreInternalPipes();
        foreach (var f in image.Files)
        {
            if (f.Kind == FileKind.Forwarded)
            {
                if (forward && !inherited.ContainsKey(f.Fd)) PlaceForwardedPlaceholder(f);
                // Home: the deputy's own stands in, with the close-on-exec the copy gave its placeholder.
                else if (!forward && inherited.ContainsKey(f.Fd)) injector.Raw(Fcntl, f.Fd, 2, f.CloseOnExec ? 1 : 0);
                continue;
            }
            if (f.Kind == FileKind.InternalPipe || KernelObjectDescriptors.Handles(f.Kind)) continue;
            if (f.Kind is FileKind.Pipe or FileKind.Terminal && inherited.ContainsKey(f.Fd)) continue;
            if (f.Kind == FileKind.Pipe)
                throw new RestoreException($"fd {f.Fd} was a pipe ({f.Path}) and no descriptor was given to stand in for it");
            var flags = f.Flags & ~(int)(OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoControllingTerminal | OpenFlags.Truncate);
            var opened = injector.Raw(Openat, AtFdCwd, (long)PutString(f.Path), flags, 0);
            if (opened < 0)
                throw new RestoreException($"cannot reopen fd {f.Fd} ({f.Path}): {Errno.FromNegated(opened).Describe()}");
            if (opened != f.Fd)
            {
                injector.Call($"dup3 to fd {f.Fd}", Dup3, opened, f.Fd, f.CloseOnExec ? (long)OpenFlags.CloseOnExec : 0);
                injector.Raw(Close, opened);
            }
            if (f.Kind == FileKind.RegularFile)
            {
                if (FileStatus.TryOf(f.Path, out var st, out _) && st!.Size != f.Size)
                    logger.LogWarning("File {Path} (fd {Fd}) is {Size} bytes now, {Was} at checkpoint", f.Path, f.Fd, st.Size, f.Size);
                injector.Call($"lseek of fd {f.Fd}", Lseek, f.Fd, f.Offset, 0);
            }
        }
        new KernelObjectDescriptors(pid, image, injector, _data, logger).Restore();
    }

    /// <summary>
    /// Rebuilds each pipe the process held both ends of: a new pipe, its ends moved above every descriptor number
    /// the image uses (so no dup3 can clobber an end still needed), duplicated onto the saved numbers with their
    /// flags, and refilled with the bytes that were buffered in it.
    /// </summary>
    private void RestoreInternalPipes()
    {
        var pipes = image.Files.Where(f => f.Kind == FileKind.InternalPipe).GroupBy(f => f.Path, StringComparer.Ordinal).ToList();
        if (pipes.Count == 0) return;
        var above = image.Files.Max(f => f.Fd) + 1;
        Span<byte> ends = stackalloc byte[8];
        foreach (var pipe in pipes)
        {
            var at = Put(new byte[8]);
            injector.Call($"pipe2 for {pipe.Key}", Pipe2, (long)at, 0);
            ProcessMemory.Read(pid, at, ends);
            var (read, write) = (BinaryPrimitives.ReadInt32LittleEndian(ends), BinaryPrimitives.ReadInt32LittleEndian(ends[4..]));
            var readHigh = injector.Call("fcntl(F_DUPFD_CLOEXEC)", Fcntl, read, FDupFdCloexec, above);
            var writeHigh = injector.Call("fcntl(F_DUPFD_CLOEXEC)", Fcntl, write, FDupFdCloexec, above);
            injector.Raw(Close, read);
            injector.Raw(Close, write);
            foreach (var f in pipe)
            {
                var end = InternalPipes.IsWriteEnd(f.Flags) ? writeHigh : readHigh;
                injector.Call($"dup3 to fd {f.Fd}", Dup3, end, f.Fd, f.CloseOnExec ? (long)OpenFlags.CloseOnExec : 0);
                injector.Call($"fcntl(F_SETFL) of fd {f.Fd}", Fcntl, f.Fd, FSetFl, f.Flags & StatusFlags);
            }
            var contents = pipe.SelectMany(f => f.PipeContents).ToArray();
            if (contents.Length > 0)
            {
                using var process = PidFd.Open(pid);
                using var writeEnd = process.GetFd((int)writeHigh);
                Descriptors.WriteAll(writeEnd, contents);
            }
            injector.Raw(Close, readHigh);
            injector.Raw(Close, writeHigh);
        }
    }

    /// <summary>The open-file status flags F_SETFL can change: O_APPEND, O_NONBLOCK, O_DIRECT, O_NOATIME, O_ASYNC.</summary>
    internal const long StatusFlags = (long)(OpenFlags.Append | OpenFlags.NonBlock | OpenFlags.Direct | OpenFlags.NoAccessTime | OpenFlags.Async);

    public void RestoreProcessState()
    {
        var a = image.Attributes;
        Span<byte> sa = stackalloc byte[32];
        Span<byte> tv = stackalloc byte[32];
        Span<byte> rl = stackalloc byte[16];
        for (var sig = 1; sig <= 64; sig++)
        {
            var action = image.Signals.Actions[sig - 1];
            if (sig is Signals.SIGKILL or Signals.SIGSTOP || action == default) continue;
            BinaryPrimitives.WriteUInt64LittleEndian(sa, action.Handler);
            BinaryPrimitives.WriteUInt64LittleEndian(sa[8..], action.Flags);
            BinaryPrimitives.WriteUInt64LittleEndian(sa[16..], action.Restorer);
            BinaryPrimitives.WriteUInt64LittleEndian(sa[24..], action.Mask);
            injector.Call($"rt_sigaction({sig})", RtSigaction, sig, (long)Put(sa), 0, 8);
        }
        var timers = new[] { image.Timers.Real, image.Timers.Virtual, image.Timers.Profiling };
        for (var which = 0; which < 3; which++)
        {
            if (!timers[which].IsArmed) continue;
            BinaryPrimitives.WriteInt64LittleEndian(tv, timers[which].IntervalMicroseconds / 1_000_000);
            BinaryPrimitives.WriteInt64LittleEndian(tv[8..], timers[which].IntervalMicroseconds % 1_000_000);
            BinaryPrimitives.WriteInt64LittleEndian(tv[16..], timers[which].ValueMicroseconds / 1_000_000);
            BinaryPrimitives.WriteInt64LittleEndian(tv[24..], timers[which].ValueMicroseconds % 1_000_000);
            injector.Call($"setitimer({which})", Setitimer, which, (long)Put(tv), 0);
        }
        for (var i = 0; i < a.Limits.Count; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(rl, a.Limits[i].Soft);
            BinaryPrimitives.WriteUInt64LittleEndian(rl[8..], a.Limits[i].Hard);
            if (injector.Raw(Prlimit64, 0, i, (long)Put(rl), 0) == -(long)Errno.EPERM)
            {
                // Raising a hard limit needs CAP_SYS_RESOURCE: keep this node's hard limit, cap the soft one.
                var here = ResourceLimits.Get(pid, i);
                var soft = Math.Min(a.Limits[i].Soft, here.Maximum);
                logger.LogWarning("Limit {Resource}: hard {Hard} cannot be raised here, kept {Here}", i, a.Limits[i].Hard, here.Maximum);
                BinaryPrimitives.WriteUInt64LittleEndian(rl, soft);
                BinaryPrimitives.WriteUInt64LittleEndian(rl[8..], here.Maximum);
                injector.Call($"prlimit({i})", Prlimit64, 0, i, (long)Put(rl), 0);
            }
        }
        injector.Call("personality", Personality, (long)a.Personality);
        injector.Call("prctl(PR_SET_NAME)", Prctl, PrSetName, (long)PutString(MainThreadName));
        injector.Call("umask", Umask, a.Umask);
        if (injector.Raw(Chdir, (long)PutString(a.WorkingDirectory)) < 0)
            logger.LogWarning("Working directory {Cwd} does not exist here; the process starts in /", a.WorkingDirectory);
        MembarrierProbe.Register(injector, a.MembarrierRegistrations);
        var main = image.MainThread;
        RestoreRegistrations(injector, pid, image.Origin.Pid, image.Rseq, a.RobustListHead, a.RobustListLength,
            main.ClearChildTid != 0 ? main.ClearChildTid : a.CachedTidAddress, a.CachedTidAddress);
        RestoreSettings(injector.WithoutStack(), main);
        foreach (var p in image.Signals.Pending)
        {
            if (p.SigInfo.Length != Ptrace.SigInfoSize) throw new CorruptImageException("pending signal info must be 128 bytes");
            var info = (long)Put(p.SigInfo);
            // The process names itself as it sees itself (the kernel lets a process queue any siginfo to itself only).
            var self = InnerIds ? image.Origin.Pid : pid;
            if (p.Shared) injector.Call($"rt_sigqueueinfo({p.Number})", RtSigqueueinfo, self, p.Number, info);
            else injector.Call($"rt_tgsigqueueinfo({p.Number})", RtTgsigqueueinfo, self, self, p.Number, info);
        }
    }

    /// <summary>
    /// Files are opened (mapped files, descriptors, the working directory) with the process's own filesystem
    /// identity, so an image can never open what its process could not: fsuid/fsgid and groups come first.
    /// </summary>
    public void AssumeFilesystemIdentity()
    {
        var c = image.Attributes.Credentials;
        SetGroups(injector, c);
        injector.Raw(Setfsgid, c.FilesystemGid);
        injector.Raw(Setfsuid, c.FilesystemUid);
    }

    /// <summary>Skipped when the thread has those groups already (a process restored by its own user, who may not
    /// call setgroups at all).</summary>
    private void SetGroups(SyscallInjector inThread, Credentials c)
    {
        if (CallerCredentials.SameGroups(ProcFs.ReadStatus(inThread.Pid).Groups, c.Groups)) return;
        var groups = new byte[c.Groups.Count * 4];
        for (var i = 0; i < c.Groups.Count; i++) BinaryPrimitives.WriteUInt32LittleEndian(groups.AsSpan(i * 4), c.Groups[i]);
        inThread.Call("setgroups", Setgroups, c.Groups.Count, c.Groups.Count == 0 ? 0 : (long)Put(groups));
    }

    /// <summary>Last, because it can only take privilege away: groups, gids, uids, then capabilities and the rest.</summary>
    /// <param name="securebits">the main thread's securebits if already read (<see cref="MainSecurebits"/>).</param>
    public void RestoreCredentials(int? securebits) => DropTo(injector, pid, image.MainThread.Privileges, securebits);

    /// <summary>
    /// The dumpable flag as it was, once nothing more is read through /proc as the process's user: changing ids
    /// reset it, and forcing it to 1 would let a process that made itself non-dumpable be read by its uid.
    /// </summary>
    public void RestoreDumpable() => injector.Call("prctl(PR_SET_DUMPABLE)", Prctl, PrSetDumpable, image.Attributes.Dumpable);

    public void DropTrampoline()
    {
        var inside = ProcessInspector.FindSyscallInstruction(pid, image.Regions);
        if (inside == 0)
        {
            logger.LogWarning("No syscall instruction in the image's code; trampoline at 0x{Address:x} stays mapped", trampoline);
            return;
        }
        injector.SyscallInstruction = inside;
        injector.Call("munmap of the trampoline", Munmap, (long)trampoline, (long)StubElf.TrampolineSize);
    }

    private ulong PutString(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s + "\0");
        return Put(bytes);
    }

    private ulong Put(ReadOnlySpan<byte> data)
    {
        if ((ulong)data.Length > StubElf.TrampolineSize - StubElf.DataOffset) throw new RestoreException("syscall argument too large for the trampoline");
        ProcessMemory.Write(pid, _data, data);
        return _data;
    }
}
