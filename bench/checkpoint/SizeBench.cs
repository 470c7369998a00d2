using System.Diagnostics;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;

namespace OpenMosix.Bench.Checkpoint;

/// <summary>One repetition: each cost measured next to its floor, and the load average when it started.</summary>
internal sealed record Repetition(double Load, TimeSpan RawRead, TimeSpan DumpEngineOnly, TimeSpan DumpToNull, TimeSpan RawWrite, TimeSpan DumpToFile, TimeSpan Restore)
{
    public double DumpRatio => DumpToNull / RawRead;
    public double DumpToFileRatio => DumpToFile / (RawRead + RawWrite);
    public double RestoreRatio => Restore / RawWrite;
}

internal sealed record SizeResult(int MiB, IReadOnlyList<Repetition> Runs, long ImageBytes, ulong TouchedBytes, ulong TargetHugeBytes);

/// <summary>
/// Measures one memory size: floors, dump to /dev/null, dump to a file, restore from that file. Each ratio is taken
/// within one repetition (cost and floor a few milliseconds apart, on the same pages), and which of the two goes first
/// alternates from one repetition to the next (ABBA), so neither always finds the caches or free memory the other left.
/// </summary>
internal static class SizeBench
{
    /// <param name="repetitions">how many (default: the options' count for this size); a warm-up passes 1 and drops the result.</param>
    public static SizeResult Run(BenchOptions options, int mib, TextWriter progress, int? repetitions = null)
    {
        var image = Path.Combine(options.Scratch, $"bench-{mib}.omimg");
        var floorFile = Path.Combine(options.Scratch, $"bench-{mib}.raw");
        var runs = new List<Repetition>();
        long imageBytes = 0;
        ulong touched, huge;
        using var engine = new CheckpointEngine(StderrLoggerProvider.FromEnvironment());
        using (var target = BenchTarget.Start(options.Target, mib, options.Scratch))
        {
            touched = target.TouchedBytes;
            huge = target.AnonHugeBytes();
            for (var rep = 0; rep < (repetitions ?? options.Repetitions(mib)); rep++)
            {
                var load = LoadAverage.OneMinute();
                var floorFirst = rep % 2 == 0;
                // dump→null against raw read: both read the same frozen-or-not pages of the same target, from the
                // same page tables (the target never changes its memory), into buffers that are already faulted in.
                TimeSpan rawRead, toNull;
                if (floorFirst)
                {
                    rawRead = Floors.RawRead(target);
                    toNull = Dump(engine, target.Pid, "/dev/null");
                }
                else
                {
                    toNull = Dump(engine, target.Pid, "/dev/null");
                    rawRead = Floors.RawRead(target);
                }
                if (options.DumpOnly)
                {
                    // Only the dump ratio: twice as many dumps in the same time, for an A/B of a dump change (ab.sh).
                    var dumpOnly = new Repetition(load, rawRead, TimeSpan.Zero, toNull, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
                    runs.Add(dumpOnly);
                    Report.PrintRepetition(progress, mib, rep, dumpOnly);
                    continue;
                }
                var engineOnly = engine.Checkpoint(target.Pid, new DiscardSink(), new DumpOptions(AfterDump.Resume)).Frozen;
                var toFile = Dump(engine, target.Pid, image);
                imageBytes = new FileInfo(image).Length;
                // restore against raw write: both allocate as many fresh pages as the target touched, each right
                // after the same memory preparation.
                TimeSpan rawWrite, restore;
                if (floorFirst)
                {
                    PrepareMemory(options, touched, floorFile);
                    rawWrite = Floors.RawWrite(target, floorFile);
                    PrepareMemory(options, touched, floorFile);
                    restore = Restore(engine, image);
                }
                else
                {
                    PrepareMemory(options, touched, floorFile);
                    restore = Restore(engine, image);
                    PrepareMemory(options, touched, floorFile);
                    rawWrite = Floors.RawWrite(target, floorFile);
                }
                var run = new Repetition(load, rawRead, engineOnly, toNull, rawWrite, toFile, restore);
                runs.Add(run);
                Report.PrintRepetition(progress, mib, rep, run);
            }
        }
        File.Delete(image);
        File.Delete(floorFile);
        return new SizeResult(mib, runs, imageBytes, touched, huge);
    }

    /// <summary>
    /// Both sides of the restore ratio allocate as many fresh pages as the target touched: give both the same kind.
    /// The floor file is deleted first, or its truncation would hand the write pages freed a moment ago.
    /// </summary>
    private static void PrepareMemory(BenchOptions options, ulong bytes, string floorFile)
    {
        File.Delete(floorFile);
        if (options.ColdMemory) MemoryTemperature.Cool();
        else MemoryTemperature.Warm(bytes);
    }

    private static TimeSpan Dump(CheckpointEngine engine, int pid, string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        using var writer = new ImageWriter(file, new ImageWriterOptions());
        var result = engine.Checkpoint(pid, writer, new DumpOptions(AfterDump.Resume));
        return result.Frozen;
    }

    /// <summary>Restores map the image file as om restore does; OM_BENCH_READ_IMAGE=1 reads it into buffers instead
    /// (as a restore from a stream does), to compare the two.</summary>
    private static readonly bool MapImage = Environment.GetEnvironmentVariable("OM_BENCH_READ_IMAGE") != "1";

    /// <summary>From opening the image to the rebuilt process being ready to run; the process is then killed.</summary>
    internal static TimeSpan Restore(CheckpointEngine engine, string path)
    {
        var watch = Stopwatch.StartNew();
        RestoredProcess restored;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0))
        using (var reader = new ImageReader(file, mapFile: MapImage))
            restored = engine.Restore(reader, new RestoreOptions(TryOriginalPid: false));
        var elapsed = watch.Elapsed;
        Signals.Kill(restored.Pid, Signals.SIGKILL);
        engine.WaitForExit(restored);
        return elapsed;
    }
}

/// <summary>The machine's 1-minute load average, printed with every repetition.</summary>
internal static class LoadAverage
{
    public static double OneMinute() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
}
