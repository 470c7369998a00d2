using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Checkpoint.Dump;

/// <summary>
/// Reads the state of descriptors on kernel objects (eventfd, timerfd, signalfd, epoll, memfd) from a frozen process:
/// fdinfo for the anon_inode kinds, the memfd itself (opened anew through /proc/PID/fd) for its contents and seals.
/// Anything it cannot rebuild is refused with the analysis's reason.
/// </summary>
internal sealed class KernelObjectReader(int pid)
{
    private const int TfdTimerAbstime = 1;
    private long _memfdBytes;

    public FileKind? KindOf(int fd, string target, FileStatus st) =>
        target.StartsWith(KernelObjectReasons.AnonPrefix, StringComparison.Ordinal)
            ? KernelObjectReasons.AnonName(target) switch
            {
                "eventfd" => FileKind.EventFd,
                "timerfd" => FileKind.TimerFd,
                "signalfd" => FileKind.SignalFd,
                "eventpoll" => FileKind.Epoll,
                _ => Refuse(KernelObjectReasons.AnonReason(pid, fd, target)),
            }
            : KernelObjectReasons.IsMemfd(target, st) ? FileKind.Memfd : null;

    /// <summary>The record of descriptor <paramref name="fd"/>, a duplicate of an earlier one where it shares its open file.</summary>
    public FileDescriptorRecord Read(FileDescriptorRecord basic, FileStatus st, IReadOnlyList<FileDescriptorRecord> earlier)
    {
        var fd = basic.Fd;
        var same = earlier.FirstOrDefault(e => e.Kind == basic.Kind && e.DuplicateOf is null && KernelObjects.SameOpenFile(pid, e.Fd, fd));
        if (same is not null) return With(basic, duplicateOf: same.Fd);
        var text = ProcFs.ReadText(pid, $"fdinfo/{fd}");
        return basic.Kind switch
        {
            FileKind.EventFd => With(basic, eventFd: EventFd(text)),
            FileKind.TimerFd => With(basic, timerFd: TimerFd(text)),
            FileKind.SignalFd => With(basic, signalFd: new SignalFdRecord { Mask = KernelObjectFdInfo.ParseSignalFd(text) }),
            FileKind.Epoll => With(basic, epoll: Epoll(fd, text)),
            _ => With(basic, memfd: Memfd(basic, st, earlier)),
        };
    }

    private static EventFdRecord EventFd(string text)
    {
        var info = KernelObjectFdInfo.ParseEventFd(text);
        return new EventFdRecord { Count = info.Count, Semaphore = info.Semaphore };
    }

    private static TimerFdRecord TimerFd(string text)
    {
        var info = KernelObjectFdInfo.ParseTimerFd(text);
        var absolute = (info.SettimeFlags & TfdTimerAbstime) != 0 && TimerClocks.IsRealtime(info.ClockId) && info.RemainingNanoseconds > 0;
        return new TimerFdRecord
        {
            ClockId = info.ClockId,
            SettimeFlags = info.SettimeFlags,
            Ticks = info.Ticks,
            RemainingNanoseconds = info.RemainingNanoseconds,
            IntervalNanoseconds = info.IntervalNanoseconds,
            // fdinfo shows the time left; the deadline it was set to is now plus that, to within this read.
            AbsoluteNanoseconds = absolute ? RealtimeClock.NowNanoseconds() + info.RemainingNanoseconds : 0,
        };
    }

    private EpollRecord Epoll(int fd, string text)
    {
        var registrations = KernelObjectFdInfo.ParseEpoll(text);
        if (KernelObjectReasons.EpollReason(pid, fd, registrations) is { } reason) Refuse(reason);
        return new EpollRecord { Registrations = [.. registrations.Select(r => new EpollRegistration { TargetFd = r.TargetFd, Events = r.Events, Data = r.Data })] };
    }

    private MemfdRecord Memfd(FileDescriptorRecord basic, FileStatus st, IReadOnlyList<FileDescriptorRecord> earlier)
    {
        var name = basic.Path["/memfd:".Length..^" (deleted)".Length];
        var first = earlier.FirstOrDefault(e => e.Memfd is { SameMemoryAs: null } && e.Device == st.Device && e.Inode == st.Inode);
        if (first is not null) return new MemfdRecord { Name = name, Size = st.Size, Mode = st.Mode & 0xfff, SameMemoryAs = first.Fd };

        using var file = Descriptors.Open($"/proc/{pid}/fd/{basic.Fd}", OpenFlags.ReadOnly);
        var extents = new List<MemfdExtent>();
        foreach (var (offset, length) in KernelObjects.DataRanges(file, st.Size))
        {
            _memfdBytes += length;
            if (_memfdBytes > KernelObjectReasons.MaxMemfdBytes)
                Refuse($"fd {basic.Fd} is a memfd ({basic.Path}) past {KernelObjectReasons.MaxMemfdBytes >> 20} MiB of memfd data in this process (at most that much travels)");
            var data = new byte[length];
            for (var done = 0; done < data.Length;)
            {
                var n = RandomAccess.Read(file, data.AsSpan(done), offset + done);
                if (n == 0) throw new IOException($"memfd {basic.Path} of process {pid} ended at {offset + done} while reading it");
                done += n;
            }
            extents.Add(new MemfdExtent { Offset = offset, Data = data });
        }
        return new MemfdRecord { Name = name, Size = st.Size, Mode = st.Mode & 0xfff, Seals = KernelObjects.Seals(file), Contents = extents };
    }

    private static FileDescriptorRecord With(FileDescriptorRecord b, int? duplicateOf = null, EventFdRecord? eventFd = null, TimerFdRecord? timerFd = null,
        SignalFdRecord? signalFd = null, EpollRecord? epoll = null, MemfdRecord? memfd = null) => new()
    {
        Fd = b.Fd, Kind = b.Kind, Path = b.Path, Flags = b.Flags, Offset = b.Offset, CloseOnExec = b.CloseOnExec,
        Device = b.Device, Inode = b.Inode, DuplicateOf = duplicateOf,
        EventFd = eventFd, TimerFd = timerFd, SignalFd = signalFd, Epoll = epoll, Memfd = memfd,
    };

    private FileKind Refuse(string? reason) => throw new CantMoveException(new CantMoveReport(pid, [reason ?? "unsupported kernel object"]));
}

/// <summary>The clocks a timerfd can run on.</summary>
internal static class TimerClocks
{
    public const int Realtime = 0, Monotonic = 1, Boottime = 7, RealtimeAlarm = 8, BoottimeAlarm = 9;

    public static bool IsRealtime(int clock) => clock is Realtime or RealtimeAlarm;

    public static bool IsValid(int clock) => clock is Realtime or Monotonic or Boottime or RealtimeAlarm or BoottimeAlarm;
}
