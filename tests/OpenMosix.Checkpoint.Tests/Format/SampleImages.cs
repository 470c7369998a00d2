using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Tests.Format;

/// <summary>Hand-made process images with known contents, for format tests that need no live process.</summary>
internal static class SampleImages
{
    public const ulong HeapStart = 0x5555_0000_0000;
    public const ulong StackStart = 0x7ffd_0000_0000;

    public static ProcessImage Metadata(int heapPages = 64, int stackPages = 8) => new()
    {
        Origin = new ImageOrigin { Pid = 4242, Command = "sample", Arguments = ["sample", "--flag"], KernelRelease = "6.18.0-test" },
        Cpu = new CpuState { GeneralRegisters = Filled(27 * 8, 7), ExtendedState = Filled(2432, 9) },
        Signals = new SignalState
        {
            BlockedMask = 1UL << 13,
            Actions = [.. Enumerable.Range(1, 64).Select(s => new SignalAction((ulong)s, 0x04000000, 0x1234, 0))],
            Pending = [new PendingSignal(true, SigInfo(14))],
        },
        Attributes = new ProcessAttributes { WorkingDirectory = "/tmp", Umask = 0x12, StartBrk = HeapStart, Brk = HeapStart + (ulong)heapPages * 4096 },
        Regions =
        [
            new MemoryRegion { Start = 0x40_0000, End = 0x40_1000, Protection = MemoryProtection.Read | MemoryProtection.Execute, Kind = RegionKind.FilePrivate, Name = "/usr/bin/sample" },
            new MemoryRegion { Start = HeapStart, End = HeapStart + (ulong)heapPages * 4096, Protection = MemoryProtection.Read | MemoryProtection.Write, Kind = RegionKind.Heap, Name = "[heap]" },
            new MemoryRegion { Start = 0x7f00_0000_0000, End = 0x7f00_0000_4000, Protection = MemoryProtection.None, Kind = RegionKind.Reserved },
            new MemoryRegion { Start = StackStart, End = StackStart + (ulong)stackPages * 4096, Protection = MemoryProtection.Read | MemoryProtection.Write, Kind = RegionKind.Stack, Name = "[stack]" },
        ],
        Files = [new FileDescriptorRecord { Fd = 3, Kind = FileKind.RegularFile, Path = "/tmp/data", Flags = 2, Offset = 8192 }],
        MainThread = new ThreadSettings { AlternateStack = new AlternateStack(0x7f00_0001_0000, 0x2000, 0), ClearChildTid = 0x7f00_0000_12d0 },
        Threads =
        [
            new ThreadImage
            {
                Tid = 4243, GeneralRegisters = Filled(27 * 8, 3), ExtendedState = Filled(2432, 5), BlockedMask = 1UL << 9,
                Pending = [new PendingSignal(false, SigInfo(10))], Nice = 5,
                Settings = new ThreadSettings { Name = "worker", SchedulingPolicy = 3 },
            },
        ],
    };

    /// <summary>Pseudo-random page runs inside the heap and stack: a mix of small and large runs.</summary>
    public static List<(ulong Address, byte[] Data)> Runs(int seed = 1, int heapPages = 64, int stackPages = 8)
    {
        var random = new Random(seed);
        var runs = new List<(ulong, byte[])>();
        void Add(ulong address, int pages)
        {
            var data = new byte[pages * 4096];
            random.NextBytes(data);
            runs.Add((address, data));
        }
        Add(HeapStart, 1);
        Add(HeapStart + 2 * 4096, heapPages - 10);
        Add(HeapStart + (ulong)(heapPages - 4) * 4096, 3);
        Add(StackStart + (ulong)(stackPages - 2) * 4096, 2);
        return runs;
    }

    public static byte[] Write(ProcessImage image, IEnumerable<(ulong Address, byte[] Data)> runs, bool compress = false)
    {
        var stream = new MemoryStream();
        using (var writer = new ImageWriter(stream, new ImageWriterOptions(Compress: compress, LeaveOpen: true)))
        {
            writer.WriteMetadata(image);
            foreach (var (address, data) in runs) writer.WritePages(address, data);
            writer.Complete();
        }
        return stream.ToArray();
    }

    /// <summary>Reads a whole image back: metadata and a copy of every run.</summary>
    public static (ProcessImage Image, List<(ulong Address, byte[] Data)> Runs) Read(Stream stream)
    {
        using var reader = new ImageReader(stream);
        var image = reader.ReadMetadata();
        var runs = new List<(ulong, byte[])>();
        while (reader.ReadNextPageRun() is { } run) runs.Add((run.Address, run.Data.ToArray()));
        return (image, runs);
    }

    public static byte[] Filled(int length, byte seed) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * seed))];

    public static byte[] SigInfo(int signal)
    {
        var info = new byte[128];
        BitConverter.TryWriteBytes(info, signal);
        return info;
    }
}
