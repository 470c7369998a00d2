using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Tests.Format;

/// <summary>The per-thread records of an image (docs/image-format.md, Threads): every field travels, and a record no
/// process could have is refused before a restore starts.</summary>
public sealed class ThreadImageTests
{
    [Fact]
    public void Every_field_of_a_thread_record_survives_a_write_and_a_read()
    {
        var thread = Worker(4250);
        var read = RoundTrip(WithThreads(Worker(4243), thread)).Threads;

        Assert.Equal([4243, 4250], read.Select(t => t.Tid));
        var t = read[1];
        Assert.Equal(thread.GeneralRegisters, t.GeneralRegisters);
        Assert.Equal(thread.ExtendedState, t.ExtendedState);
        Assert.Equal(thread.BlockedMask, t.BlockedMask);
        Assert.Equal([(12, false)], t.Pending.Select(p => (p.Number, p.Shared)));
        Assert.Equal(thread.Rseq, t.Rseq);
        Assert.Equal((0x7f00_0000_2a20UL, 24UL, 0x7f00_0000_2b50UL, -7), (t.RobustListHead, t.RobustListLength, t.CachedTidAddress, t.Nice));
        Assert.Equal(("state-1", new AlternateStack(0x7f00_0002_0000, 0x10000, unchecked((int)0x80000000)), 0x7f00_0000_2b50UL, 2, 9),
            (t.Settings.Name, t.Settings.AlternateStack, t.Settings.ClearChildTid, t.Settings.SchedulingPolicy, t.Settings.RealtimePriority));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "registers", "thread 4250: general registers are 64 bytes" },
        { "xsave", "thread 4250: extended state of 512 bytes" },
        { "repeated", "thread id 4243 is not positive or not unique" },
        { "pid", "thread id 4242 is not positive or not unique" },
        { "negative", "thread id -1 is not positive or not unique" },
        { "name", "thread 4250: its name is too long" },
        { "nice", "thread 4250: nice 20" },
        { "siginfo", "thread 4250: a pending signal is malformed" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_thread_record_no_process_could_have_is_refused_naming_the_thread(string what, string expected)
    {
        var bad = what switch
        {
            "registers" => Worker(4250, registers: new byte[64]),
            "xsave" => Worker(4250, xsave: new byte[512]),
            "repeated" => Worker(4243),
            "pid" => Worker(4242),
            "negative" => Worker(-1),
            "name" => Worker(4250, name: new string('n', 65)),
            "nice" => Worker(4250, nice: 20),
            _ => Worker(4250, siginfo: new byte[64]),
        };
        var bytes = SampleImages.Write(WithThreads(Worker(4243), bad), SampleImages.Runs());

        var e = Assert.Throws<CorruptImageException>(() => SampleImages.Read(new MemoryStream(bytes)));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    /// <summary>A worker thread as a dump records one (the sample's main thread has 2432 bytes of XSAVE state).</summary>
    private static ThreadImage Worker(int tid, byte[]? registers = null, byte[]? xsave = null, string name = "state-1", int nice = -7, byte[]? siginfo = null) => new()
    {
        Tid = tid, GeneralRegisters = registers ?? SampleImages.Filled(27 * 8, 3), ExtendedState = xsave ?? SampleImages.Filled(2432, 5),
        BlockedMask = (1UL << 9) | (1UL << 40),
        Pending = [new PendingSignal(false, siginfo ?? SampleImages.SigInfo(12))],
        Rseq = new RseqRegistration(0x7f00_0000_2ae0, 32, 0x53053053, 0),
        RobustListHead = 0x7f00_0000_2a20, RobustListLength = 24, CachedTidAddress = 0x7f00_0000_2b50, Nice = nice,
        Settings = new ThreadSettings
        {
            Name = name, AlternateStack = new AlternateStack(0x7f00_0002_0000, 0x10000, unchecked((int)0x80000000)),
            ClearChildTid = 0x7f00_0000_2b50, SchedulingPolicy = 2, RealtimePriority = 9,
        },
    };

    private static ProcessImage WithThreads(params ThreadImage[] threads)
    {
        var image = SampleImages.Metadata();
        return new ProcessImage
        {
            Origin = image.Origin, Cpu = image.Cpu, Signals = image.Signals, Attributes = image.Attributes, Timers = image.Timers,
            Regions = image.Regions, Files = image.Files, MainThread = image.MainThread, Threads = [.. threads],
        };
    }

    private static ProcessImage RoundTrip(ProcessImage image) =>
        SampleImages.Read(new MemoryStream(SampleImages.Write(image, SampleImages.Runs()))).Image;
}
