using System.Diagnostics;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;

namespace OpenMosix.Bench.Checkpoint;

internal sealed record SizeResult(
    int MiB,
    TimeSpan RawRead,
    TimeSpan RawWrite,
    TimeSpan DumpEngineOnly,
    TimeSpan DumpToNull,
    TimeSpan DumpToFile,
    TimeSpan Restore,
    long ImageBytes,
    ulong TouchedBytes);

/// <summary>Measures one memory size: floors, dump to /dev/null, dump to a file, restore from that file.</summary>
internal static class SizeBench
{
    public static SizeResult Run(BenchOptions options, int mib)
    {
        var image = Path.Combine(options.Scratch, $"bench-{mib}.omimg");
        var floorFile = Path.Combine(options.Scratch, $"bench-{mib}.raw");
        var rawRead = new List<TimeSpan>();
        var rawWrite = new List<TimeSpan>();
        var engineOnly = new List<TimeSpan>();
        var toNull = new List<TimeSpan>();
        var toFile = new List<TimeSpan>();
        var restore = new List<TimeSpan>();
        long imageBytes = 0;
        ulong touched;
        using var engine = new CheckpointEngine();
        using (var target = BenchTarget.Start(options.Target, mib, options.Scratch))
        {
            touched = target.TouchedBytes;
            for (var rep = 0; rep < options.Repetitions(mib); rep++)
            {
                rawRead.Add(Floors.RawRead(target));
                engineOnly.Add(engine.Checkpoint(target.Pid, new DiscardSink(), new DumpOptions(AfterDump.Resume)).Frozen);
                toNull.Add(Dump(engine, target.Pid, "/dev/null"));
                PrepareMemory(options, touched, floorFile);
                rawWrite.Add(Floors.RawWrite(target, floorFile));
                toFile.Add(Dump(engine, target.Pid, image));
                imageBytes = new FileInfo(image).Length;
                PrepareMemory(options, touched, floorFile);
                restore.Add(Restore(engine, image));
            }
        }
        File.Delete(image);
        File.Delete(floorFile);
        return new SizeResult(mib, Median(rawRead), Median(rawWrite), Median(engineOnly), Median(toNull), Median(toFile), Median(restore), imageBytes, touched);
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

    /// <summary>From opening the image to the rebuilt process being ready to run; the process is then killed.</summary>
    internal static TimeSpan Restore(CheckpointEngine engine, string path)
    {
        var watch = Stopwatch.StartNew();
        RestoredProcess restored;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0))
        using (var reader = new ImageReader(file))
            restored = engine.Restore(reader, new RestoreOptions(TryOriginalPid: false));
        var elapsed = watch.Elapsed;
        Signals.Kill(restored.Pid, Signals.SIGKILL);
        engine.WaitForExit(restored);
        return elapsed;
    }

    private static TimeSpan Median(List<TimeSpan> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
