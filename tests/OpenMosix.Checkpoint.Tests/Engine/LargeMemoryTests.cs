using System.Diagnostics;
using System.Runtime.InteropServices;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.Linux.Interop;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

public sealed class LargeMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public void Sixty_four_megabytes_survive_restore_and_dump_speed_is_reported_against_raw_reads()
    {
        using var dir = new TempDirectory();
        var (read, write) = Pipe();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("eng_bigmem"), ["64"], dir.File("out"), read);
        Poll.UntilLines(dir.File("out"), 1, Patience);
        UntilBlockedIn(child.Pid, 0);
        var ready = File.ReadAllText(dir.File("out")).Trim().Split(' ')[1];

        using var engine = new CheckpointEngine(new TestOutputLoggerFactory(output.WriteLine, Microsoft.Extensions.Logging.LogLevel.Information));
        var warmup = new InMemoryImage();
        engine.Checkpoint(child.Pid, warmup, new DumpOptions(AfterDump.Resume));
        // Best of three for both, interleaved, so that one scheduling hiccup on a 2-core box does not decide.
        var raw = TimeSpan.MaxValue;
        var engineOnly = TimeSpan.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var r = TimeRawRead(child.Pid, warmup);
            if (r < raw) raw = r;
            // Engine cost alone: a sink that keeps nothing.
            var e = engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.Resume)).Total;
            if (e < engineOnly) engineOnly = e;
        }

        var image = new InMemoryImage();
        var dump = engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        Assert.True(dump.PageBytes >= 64UL << 20, $"only {dump.PageBytes} bytes stored");

        var restored = engine.Restore(image, new RestoreOptions(new Dictionary<int, int> { [0] = (int)read.DangerousGetHandle() }));
        read.Dispose();
        WriteAll(write, "hello\n");
        write.Dispose();
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal($"ready {ready}\nafter {ready} hello\n", File.ReadAllText(dir.File("out")));

        output.WriteLine($"engine-only dump {engineOnly.TotalMilliseconds:F1} ms vs raw process_vm_readv {raw.TotalMilliseconds:F1} ms (best of 3): ratio {engineOnly / raw:F2}");
        output.WriteLine($"{dump.PageBytes / 1048576.0:F1} MiB stored into memory; " +
                         $"dump total {dump.Total.TotalMilliseconds:F1} ms (frozen {dump.Frozen.TotalMilliseconds:F1} ms, " +
                         $"attach {dump.AttachToStopped.TotalMilliseconds:F2} ms); restore {restored.Total.TotalMilliseconds:F1} ms");
    }

    private sealed class NullSink : OpenMosix.Checkpoint.Image.IImageSink
    {
        public void WriteMetadata(OpenMosix.Checkpoint.Image.ProcessImage image) { }
        public void WritePages(ulong address, ReadOnlySpan<byte> data) { }
        public void Complete() { }
    }

    // The same pages the engine stored, read with process_vm_readv into one 16 MB buffer, 1024 iovecs per call.
    private static unsafe TimeSpan TimeRawRead(int pid, InMemoryImage image)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(16 << 20, pinned: true);
        var local = new IoVec[1024];
        var remote = new IoVec[1024];
        var clock = Stopwatch.StartNew();
        fixed (byte* b = buffer)
        {
            int count = 0, used = 0;
            void Flush()
            {
                if (count > 0) ProcessMemory.ReadV(pid, local.AsSpan(0, count), remote.AsSpan(0, count));
                count = used = 0;
            }
            foreach (var (address, data) in image.Runs)
            {
                for (var at = 0; at < data.Length;)
                {
                    if (count == 1024 || used == buffer.Length) Flush();
                    var length = Math.Min(data.Length - at, buffer.Length - used);
                    local[count] = new IoVec((nint)(b + used), (nuint)length);
                    remote[count] = new IoVec((nint)(address + (ulong)at), (nuint)length);
                    count++;
                    used += length;
                    at += length;
                }
            }
            Flush();
        }
        GC.KeepAlive(buffer);
        return clock.Elapsed;
    }
}
