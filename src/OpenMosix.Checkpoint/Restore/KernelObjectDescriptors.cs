using System.Text;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Linux.Interop;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// Rebuilds the descriptors on kernel objects inside the stub, after the files and pipes: eventfds, timerfds,
/// signalfds and memfds (each made anew and moved to its number, duplicates dup'ed from it), then the shared
/// mappings of the memfds, the memfds' seals, and last the epoll instances, whose registrations name descriptors that
/// must all exist by then.
/// </summary>
internal sealed class KernelObjectDescriptors(int pid, ProcessImage image, SyscallInjector injector, ulong scratch, ILogger logger)
{
    private const long FdCloexec = 1, EfdSemaphore = 1, MfdCloexec = 1, MfdAllowSealing = 2, FAddSeals = 1033, EpollCtlAdd = 1;
    private const int TfdTimerAbstime = 1, CreationFlags = (int)(OpenFlags.NonBlock | OpenFlags.CloseOnExec);

    public static bool Handles(FileKind kind) => kind is FileKind.EventFd or FileKind.TimerFd or FileKind.SignalFd or FileKind.Epoll or FileKind.Memfd;

    public void Restore()
    {
        var objects = image.Files.Where(f => Handles(f.Kind)).ToList();
        if (objects.Count == 0) return;
        foreach (var f in objects.Where(f => f.Kind != FileKind.Epoll && f.DuplicateOf is null)) Create(f);
        MapSharedMemfds(objects);
        foreach (var f in objects.Where(f => f.Memfd is { SameMemoryAs: null, Seals: not 0 } && f.DuplicateOf is null))
            injector.Call($"fcntl(F_ADD_SEALS) of fd {f.Fd}", Fcntl, f.Fd, FAddSeals, f.Memfd!.Seals);
        var epolls = objects.Where(f => f.Kind == FileKind.Epoll && f.DuplicateOf is null).ToList();
        foreach (var f in epolls) Place(f, injector.Call($"epoll_create1 for fd {f.Fd}", EpollCreate1, 0));
        // Duplicates of everything, epolls included, exist before any registration names them.
        foreach (var f in objects.Where(f => f.DuplicateOf is not null))
            injector.Call($"dup3 of fd {f.DuplicateOf} to fd {f.Fd}", Dup3, f.DuplicateOf!.Value, f.Fd, f.CloseOnExec ? (long)OpenFlags.CloseOnExec : 0);
        foreach (var f in epolls) Register(f);
    }

    private void Create(FileDescriptorRecord f)
    {
        var flags = (long)(uint)(f.Flags & CreationFlags);
        switch (f.Kind)
        {
            case FileKind.EventFd:
                var e = f.EventFd!;
                // eventfd2 takes an unsigned int; a larger count is written into the new eventfd instead.
                var initial = e.Count <= uint.MaxValue ? (long)e.Count : 0;
                Place(f, injector.Call($"eventfd2 for fd {f.Fd}", Eventfd2, initial, flags | (e.Semaphore ? EfdSemaphore : 0)));
                if (e.Count > uint.MaxValue) WriteThrough(f.Fd, BitConverter.GetBytes(e.Count));
                break;
            case FileKind.TimerFd:
                Place(f, injector.Call($"timerfd_create for fd {f.Fd}", TimerfdCreate, f.TimerFd!.ClockId, flags));
                Arm(f.Fd, f.TimerFd);
                break;
            case FileKind.SignalFd:
                var mask = new byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(mask, f.SignalFd!.Mask);
                Place(f, injector.Call($"signalfd4 for fd {f.Fd}", Signalfd4, -1, (long)Put(mask), 8, flags));
                break;
            case FileKind.Memfd:
                CreateMemfd(f);
                break;
        }
    }

    /// <summary>
    /// Re-arms a timerfd. Time left is relative except on a realtime clock with TFD_TIMER_ABSTIME, which gets its
    /// absolute deadline back (already past: it fires at once). A periodic timer that fired and was not read has no
    /// time left in fdinfo (the kernel re-arms it on read): it restarts with a full interval. Its unread expirations
    /// are set last, as timerfd_settime clears them.
    /// </summary>
    private void Arm(int fd, TimerFdRecord t)
    {
        var remaining = t.RemainingNanoseconds > 0 ? t.RemainingNanoseconds : t.IntervalNanoseconds;
        if (remaining > 0)
        {
            var absolute = t.AbsoluteNanoseconds > 0 && (t.SettimeFlags & TfdTimerAbstime) != 0;
            var spec = new byte[32];
            WriteTimespec(spec, t.IntervalNanoseconds);
            WriteTimespec(spec.AsSpan(16), absolute ? t.AbsoluteNanoseconds : remaining);
            injector.Call($"timerfd_settime of fd {fd}", TimerfdSettime, fd, absolute ? t.SettimeFlags : 0, (long)Put(spec), 0);
        }
        if (t.Ticks == 0) return;
        using var process = PidFd.Open(pid);
        using var timer = process.GetFd(fd);
        KernelObjects.SetTimerTicks(timer, t.Ticks);
    }

    private static void WriteTimespec(Span<byte> at, long nanoseconds)
    {
        BinaryPrimitives.WriteInt64LittleEndian(at, nanoseconds / 1_000_000_000);
        BinaryPrimitives.WriteInt64LittleEndian(at[8..], nanoseconds % 1_000_000_000);
    }

    /// <summary>
    /// A memfd with the same name, sealable (its own seals, F_SEAL_SEAL among them for one that was not, are added
    /// last), its size, mode, contents written by omd through pidfd_getfd, and its offset. Another open of a memfd
    /// already made opens that one again through /proc/self/fd.
    /// </summary>
    private void CreateMemfd(FileDescriptorRecord f)
    {
        var m = f.Memfd!;
        if (m.SameMemoryAs is { } first)
        {
            var reopened = injector.Call($"open of memfd fd {first} for fd {f.Fd}", Openat, AtFdCwd, (long)PutString($"/proc/self/fd/{first}"),
                f.Flags & ~(int)OpenFlags.CloseOnExec, 0);
            Place(f, reopened);
        }
        else
        {
            Place(f, injector.Call($"memfd_create for fd {f.Fd}", MemfdCreate, (long)PutString(m.Name), MfdCloexec | MfdAllowSealing));
            injector.Call($"ftruncate of memfd fd {f.Fd}", Ftruncate, f.Fd, m.Size);
            if ((m.Mode & 0x1ff) != 0x1ff) injector.Call($"fchmod of memfd fd {f.Fd}", Fchmod, f.Fd, m.Mode);
            if (m.Contents.Count > 0)
            {
                using var process = PidFd.Open(pid);
                using var memfd = process.GetFd(f.Fd);
                foreach (var extent in m.Contents) RandomAccess.Write(memfd, extent.Data, extent.Offset);
            }
        }
        injector.Call($"lseek of fd {f.Fd}", Lseek, f.Fd, f.Offset, 0);
    }

    /// <summary>
    /// Maps each shared memfd region from its rebuilt memfd over the placeholder the layout step mapped there, so the
    /// process's mappings of one memfd share memory with each other and with its descriptor again.
    /// </summary>
    private void MapSharedMemfds(List<FileDescriptorRecord> objects)
    {
        foreach (var r in image.Regions.Where(r => r.Kind == RegionKind.SharedMemfd))
        {
            var owner = objects.FirstOrDefault(f => f.Memfd is { SameMemoryAs: null } && f.DuplicateOf is null && f.Device == r.Device && f.Inode == r.Inode)
                ?? throw new RestoreException($"the shared mapping {r.Start:x}-{r.End:x} ({r.Name}) has no memfd in the image");
            var got = (ulong)injector.Call($"mmap of {r.Start:x}-{r.End:x} {r.Name}", Mmap, (long)r.Start, (long)r.Length, (long)r.Protection,
                MapShared | MapFixed, owner.Fd, (long)r.FileOffset);
            if (got != r.Start) throw new RestoreException($"mmap of {r.Start:x}-{r.End:x} {r.Name} landed at 0x{got:x}");
        }
    }

    /// <summary>Replays the registrations: struct epoll_event is packed on x86_64 (events at 0, data at 4).</summary>
    private void Register(FileDescriptorRecord f)
    {
        var ev = new byte[12];
        foreach (var r in f.Epoll!.Registrations)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(ev, r.Events);
            BinaryPrimitives.WriteUInt64LittleEndian(ev.AsSpan(4), r.Data);
            var result = injector.Raw(EpollCtl, f.Fd, EpollCtlAdd, r.TargetFd, (long)Put(ev));
            if (result < 0)
                throw new RestoreException($"epoll fd {f.Fd}: cannot register fd {r.TargetFd} again (events 0x{r.Events:x}): {Errno.FromNegated(result).Describe()}");
        }
        logger.LogDebug("Epoll fd {Fd}: {Count} registrations rebuilt", f.Fd, f.Epoll.Registrations.Count);
    }

    /// <summary>Moves a new descriptor to the image's number with the image's close-on-exec and status flags.</summary>
    private void Place(FileDescriptorRecord f, long created)
    {
        if (created != f.Fd)
        {
            injector.Call($"dup3 to fd {f.Fd}", Dup3, created, f.Fd, f.CloseOnExec ? (long)OpenFlags.CloseOnExec : 0);
            injector.Raw(Close, created);
        }
        else
        {
            injector.Call($"fcntl(F_SETFD) of fd {f.Fd}", Fcntl, f.Fd, FSetFd, f.CloseOnExec ? FdCloexec : 0);
        }
        injector.Call($"fcntl(F_SETFL) of fd {f.Fd}", Fcntl, f.Fd, FSetFl, f.Flags & (int)(OpenFlags.NonBlock | OpenFlags.Append));
    }

    private void WriteThrough(int fd, byte[] data)
    {
        using var process = PidFd.Open(pid);
        using var file = process.GetFd(fd);
        Descriptors.WriteAll(file, data);
    }

    private ulong PutString(string s) => Put(Encoding.UTF8.GetBytes(s + "\0"));

    private ulong Put(ReadOnlySpan<byte> data)
    {
        if ((ulong)data.Length > StubElf.TrampolineSize - StubElf.DataOffset) throw new RestoreException("syscall argument too large for the trampoline");
        ProcessMemory.Write(pid, scratch, data);
        return scratch;
    }
}
