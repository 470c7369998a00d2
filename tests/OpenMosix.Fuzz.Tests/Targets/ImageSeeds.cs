using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>
/// Small images written by <see cref="ImageWriter"/>: a process with two threads, a pending signal, regular, pipe,
/// eventfd, timerfd, signalfd, epoll and memfd descriptors, a shared file mapping and page runs in heap and stack;
/// the same compressed; and a pre-copy round (layout and pages).
/// </summary>
internal static class ImageSeeds
{
    private const ulong Heap = 0x5555_0000_0000, Stack = 0x7ffd_0000_0000, Shared = 0x7f10_0000_0000;

    public static IEnumerable<(string Name, byte[] Data)> All()
    {
        yield return ("process.omi", Write(Process(), compress: false));
        yield return ("process-lz4.omi", Write(Process(), compress: true));
        yield return ("precopy-round.omi", WriteRound());
        yield return ("process-tree.omi", WriteTree());
    }

    /// <summary>A tree file: a shell, two jobs (one of them exited), a pipe between them and a shared log.</summary>
    private static byte[] WriteTree()
    {
        using var stream = new MemoryStream();
        using (var writer = new ImageWriter(stream, new ImageWriterOptions(LeaveOpen: true)))
        {
            writer.WriteTree(new TreeImage
            {
                RootPid = 4242,
                Processes =
                [
                    new TreeProcess { Pid = 4242, ProcessGroup = 4242, Session = 4000, ExitSignal = 17 },
                    new TreeProcess { Pid = 4243, ParentPid = 4242, ProcessGroup = 4242, Session = 4000, ExitSignal = 17 },
                    new TreeProcess { Pid = 4244, ParentPid = 4242, ProcessGroup = 4244, Session = 4000, ExitSignal = 17 },
                    new TreeProcess { Pid = 4245, ParentPid = 4242, ProcessGroup = 4242, Session = 4000, ExitSignal = 17, ExitStatus = 9 },
                ],
                Pipes = [new TreePipe { Name = "pipe:[7]", Contents = [1, 2, 3], Ends = [new TreeDescriptor { Pid = 4243, Fd = 1, Write = true }, new TreeDescriptor { Pid = 4244, Fd = 0 }] }],
                Files = [new TreeSharedFile { Path = "/tmp/seed.log", Flags = 1025, Offset = 9, Ends = [new TreeDescriptor { Pid = 4242, Fd = 2 }, new TreeDescriptor { Pid = 4244, Fd = 2 }] }],
            });
            writer.Complete();
        }
        return stream.ToArray();
    }

    private static ProcessImage Process() => new()
    {
        Origin = new ImageOrigin { Pid = 4242, Command = "seed", ExecutablePath = "/usr/bin/seed", Arguments = ["seed", "-x"], KernelRelease = "6.18.0" },
        Cpu = new CpuState { GeneralRegisters = Pattern(27 * 8, 3), ExtendedState = Pattern(832, 5) },
        Signals = new SignalState
        {
            Actions = [.. Enumerable.Range(1, 64).Select(s => new SignalAction((ulong)s, 0x0400_0000, 0x1000, 0))],
            Pending = [new PendingSignal(true, SigInfo(10))],
        },
        Attributes = new ProcessAttributes
        {
            WorkingDirectory = "/tmp", StartBrk = Heap, Brk = Heap + 4 * 4096,
            Limits = [new ResourceLimit(8 << 20, ulong.MaxValue)], Credentials = new Credentials { Uid = 1000, Groups = [1000, 27] },
        },
        Regions =
        [
            Region(0x40_0000, 0x40_2000, RegionKind.FilePrivate, "/usr/bin/seed", MemoryProtection.Read | MemoryProtection.Execute),
            Region(Heap, Heap + 4 * 4096, RegionKind.Heap, "[heap]"),
            new MemoryRegion
            {
                Start = Shared, End = Shared + 2 * 4096, Kind = RegionKind.SharedFile, Shared = true, Name = "/tmp/seed.shm",
                Protection = MemoryProtection.Read | MemoryProtection.Write, FileSize = 4096,
            },
            Region(Stack, Stack + 2 * 4096, RegionKind.Stack, "[stack]"),
        ],
        Files =
        [
            new FileDescriptorRecord { Fd = 0, Kind = FileKind.Pipe, Path = "pipe:[1]" },
            new FileDescriptorRecord { Fd = 3, Kind = FileKind.RegularFile, Path = "/tmp/seed.txt", Offset = 12 },
            new FileDescriptorRecord { Fd = 4, Kind = FileKind.EventFd, Path = "anon_inode:[eventfd]", EventFd = new EventFdRecord { Count = 2 } },
            new FileDescriptorRecord { Fd = 5, Kind = FileKind.TimerFd, Path = "anon_inode:[timerfd]", TimerFd = new TimerFdRecord { ClockId = 1, RemainingNanoseconds = 5000 } },
            new FileDescriptorRecord { Fd = 6, Kind = FileKind.SignalFd, Path = "anon_inode:[signalfd]", SignalFd = new SignalFdRecord { Mask = 1 << 9 } },
            new FileDescriptorRecord
            {
                Fd = 7, Kind = FileKind.Epoll, Path = "anon_inode:[eventpoll]",
                Epoll = new EpollRecord { Registrations = [new EpollRegistration { TargetFd = 4, Events = 1, Data = 4 }] },
            },
            new FileDescriptorRecord
            {
                Fd = 8, Kind = FileKind.Memfd, Path = "/memfd:seed (deleted)",
                Memfd = new MemfdRecord { Name = "seed", Size = 8192, Mode = 0x1ff, Contents = [new MemfdExtent { Offset = 4096, Data = Pattern(16, 1) }] },
            },
            new FileDescriptorRecord { Fd = 9, Kind = FileKind.EventFd, Path = "anon_inode:[eventfd]", DuplicateOf = 4 },
        ],
        MainThread = new ThreadSettings { Name = "seed", AlternateStack = new AlternateStack(0x7f00_0001_0000, 0x2000, 0) },
        Threads =
        [
            new ThreadImage
            {
                Tid = 4243, GeneralRegisters = Pattern(27 * 8, 7), ExtendedState = Pattern(832, 9),
                Pending = [new PendingSignal(false, SigInfo(12))], Nice = 3, Settings = new ThreadSettings { Name = "worker" },
            },
        ],
    };

    private static byte[] Write(ProcessImage image, bool compress)
    {
        var stream = new MemoryStream();
        using (var writer = new ImageWriter(stream, new ImageWriterOptions(Compress: compress, LeaveOpen: true)))
        {
            writer.WriteMetadata(image);
            writer.WritePages(Heap, Pattern(4096, 11));
            writer.WritePages(Heap + 2 * 4096, Pattern(2 * 4096, 13));
            writer.WritePages(Shared, Pattern(4096, 17));
            writer.WritePages(Stack + 4096, Pattern(4096, 19));
            writer.Complete();
        }
        return stream.ToArray();
    }

    private static byte[] WriteRound()
    {
        var stream = new MemoryStream();
        using (var writer = new ImageWriter(stream, new ImageWriterOptions(LeaveOpen: true)))
        {
            writer.WriteLayout(new PrecopyLayout
            {
                Pid = 4242, Command = "seed", Round = 1, StartBrk = Heap, Brk = Heap + 4 * 4096,
                Regions = [Region(Heap, Heap + 4 * 4096, RegionKind.Heap, "[heap]"), Region(Stack, Stack + 2 * 4096, RegionKind.Stack, "[stack]")],
                Tracked = [new AddressRange(Heap, Heap + 4 * 4096)],
                Files = [new FileDescriptorRecord { Fd = 1, Kind = FileKind.Pipe, Path = "pipe:[2]" }],
            });
            writer.WritePages(Heap + 4096, Pattern(2 * 4096, 23));
            writer.Complete();
        }
        return stream.ToArray();
    }

    private static MemoryRegion Region(ulong start, ulong end, RegionKind kind, string name,
        MemoryProtection protection = MemoryProtection.Read | MemoryProtection.Write) =>
        new() { Start = start, End = end, Kind = kind, Name = name, Protection = protection };

    private static byte[] Pattern(int length, int step) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * step))];

    private static byte[] SigInfo(int signal)
    {
        var info = new byte[128];
        BitConverter.TryWriteBytes(info, signal);
        return info;
    }
}
