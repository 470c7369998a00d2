using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Daemon.Tests.Migration.Checkpoints;

/// <summary>Hand-made checkpoints of a process with a heap and a stack: a pre-copy round and final images over it.</summary>
internal static class CheckpointImages
{
    public const ulong Heap = 0x5555_0000_0000;
    public const ulong Stack = 0x7ffd_0000_0000;
    public const int Pages = 16;
    public static readonly AddressRange HeapRange = new(Heap, Heap + Pages * 4096UL);
    public static readonly AddressRange StackRange = new(Stack, Stack + Pages * 4096UL);

    private static List<MemoryRegion> Regions() =>
    [
        new MemoryRegion { Start = Heap, End = HeapRange.End, Protection = MemoryProtection.Read | MemoryProtection.Write, Kind = RegionKind.Heap, Name = "[heap]" },
        new MemoryRegion { Start = Stack, End = StackRange.End, Protection = MemoryProtection.Read | MemoryProtection.Write, Kind = RegionKind.Stack, Name = "[stack]" },
    ];

    /// <summary>A round tracking heap and stack, with the given pages (address, fill byte).</summary>
    public static byte[] Round(params (ulong Address, byte Fill)[] pages)
    {
        var stream = new MemoryStream();
        using (var writer = new ImageWriter(stream, new ImageWriterOptions(LeaveOpen: true)))
        {
            writer.WriteLayout(new PrecopyLayout
            {
                Pid = 4242, Command = "sample", Round = 1, StartBrk = Heap, Brk = HeapRange.End,
                Regions = Regions(), Tracked = [HeapRange, StackRange],
            });
            WritePages(writer, pages);
        }
        return stream.ToArray();
    }

    /// <summary>A final image that kept <paramref name="kept"/>, with the given pages.</summary>
    public static byte[] Final(AddressRange[] kept, params (ulong Address, byte Fill)[] pages)
    {
        var stream = new MemoryStream();
        using (var writer = new ImageWriter(stream, new ImageWriterOptions(LeaveOpen: true)))
        {
            writer.WriteMetadata(new ProcessImage
            {
                Origin = new ImageOrigin { Pid = 4242, Command = "sample" },
                Cpu = new CpuState { GeneralRegisters = new byte[27 * 8], ExtendedState = new byte[2432] },
                Signals = new SignalState { Actions = [.. Enumerable.Range(1, 64).Select(s => new SignalAction((ulong)s, 0, 0, 0))] },
                Attributes = new ProcessAttributes { WorkingDirectory = "/tmp", StartBrk = Heap, Brk = HeapRange.End },
                Regions = Regions(),
                Precopy = new PrecopyDelta { Kept = [.. kept], Rounds = 1 },
            });
            WritePages(writer, pages);
        }
        return stream.ToArray();
    }

    /// <summary>Every page of a round, as (address, fill byte), and the ranges it tracks.</summary>
    public static (List<AddressRange> Tracked, List<(ulong Address, byte Fill)> Pages) ReadRound(Stream round)
    {
        using var reader = new ImageReader(round, leaveOpen: true);
        var layout = reader.ReadLayout();
        var pages = new List<(ulong, byte)>();
        while (reader.ReadNextPageRun() is { } run)
            for (var offset = 0; offset < run.Data.Length; offset += 4096)
            {
                var page = run.Data.Span.Slice(offset, 4096);
                Assert.True(page.IndexOfAnyExcept(page[0]) < 0, "a page of mixed bytes");
                pages.Add((run.Address + (ulong)offset, page[0]));
            }
        return (layout.Tracked, pages);
    }

    private static void WritePages(ImageWriter writer, (ulong Address, byte Fill)[] pages)
    {
        foreach (var (address, fill) in pages.OrderBy(p => p.Address))
        {
            var data = new byte[4096];
            Array.Fill(data, fill);
            writer.WritePages(address, data);
        }
        writer.Complete();
    }
}
