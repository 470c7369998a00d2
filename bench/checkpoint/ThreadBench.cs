using System.Diagnostics;
using System.Globalization;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;

namespace OpenMosix.Bench.Checkpoint;

/// <summary>Freeze, dump and restore of one process: medians over the repetitions.</summary>
internal sealed record ThreadCosts(TimeSpan Freeze, TimeSpan Dump, TimeSpan Restore);

/// <summary>
/// A process with many threads against one with a single thread and the same memory: the time to stop it (every
/// thread seized and interrupted), the time it stays frozen for its dump, and the time to rebuild it (every thread
/// cloned and set up). The two targets alternate repetition by repetition, so noise falls on both alike. Busy threads
/// (--busy) keep both CPUs of these machines taken while the other target is measured: a test of the freeze under
/// load, not a fair ratio.
/// </summary>
internal static class ThreadBench
{
    private const double Goal = 1.2;

    public static void Run(BenchOptions options, int mib, int threads, bool busy, TextWriter output)
    {
        var image = Path.Combine(options.Scratch, $"threads-{mib}.omimg");
        var single = new List<(TimeSpan, TimeSpan, TimeSpan)>();
        var many = new List<(TimeSpan, TimeSpan, TimeSpan)>();
        using var engine = new CheckpointEngine();
        using (var one = BenchTarget.Start(options.Target, mib, options.Scratch))
        using (var all = BenchTarget.Start(options.Target, mib, options.Scratch, threads, busy))
        {
            // ABBA: which target goes first alternates, so neither always finds memory just freed by the other.
            for (var rep = 0; rep < options.Repetitions(mib); rep++)
            {
                if (rep % 2 == 0) single.Add(Measure(engine, one.Pid, image));
                many.Add(Measure(engine, all.Pid, image));
                if (rep % 2 == 1) single.Add(Measure(engine, one.Pid, image));
            }
        }
        File.Delete(image);
        var (f1, d1, r1) = Medians(single);
        var (fn, dn, rn) = Medians(many);
        output.WriteLine($"{mib} MiB, {threads} {(busy ? "busy" : "idle")} threads against 1 (medians of {single.Count}):");
        output.WriteLine($"  freeze + dump  {Ms(f1 + d1),10}  {Ms(fn + dn),10}  ratio {Ratio(fn + dn, f1 + d1)}");
        output.WriteLine($"  restore        {Ms(r1),10}  {Ms(rn),10}  ratio {Ratio(rn, r1)}");
        output.WriteLine($"  of which freeze {Ms(f1),9}  {Ms(fn),10}  (attach until every thread is stopped)");
        output.WriteLine($"  (dump: the time frozen, image to a tmpfs file; restore: image to a process ready to run; goal ≤ {Goal})");
    }

    private static (TimeSpan Freeze, TimeSpan Dump, TimeSpan Restore) Measure(CheckpointEngine engine, int pid, string path)
    {
        DumpResult dumped;
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        using (var writer = new ImageWriter(file, new ImageWriterOptions()))
            dumped = engine.Checkpoint(pid, writer, new DumpOptions(AfterDump.Resume));
        var restore = SizeBench.Restore(engine, path);
        return (dumped.AttachToStopped, dumped.Frozen, restore);
    }

    private static (TimeSpan, TimeSpan, TimeSpan) Medians(List<(TimeSpan F, TimeSpan D, TimeSpan R)> runs) =>
        (Median(runs.Select(r => r.F)), Median(runs.Select(r => r.D)), Median(runs.Select(r => r.R)));

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("F2", CultureInfo.InvariantCulture) + " ms";

    private static string Ratio(TimeSpan cost, TimeSpan floor)
    {
        var ratio = cost / floor;
        return ratio.ToString("F2", CultureInfo.InvariantCulture) + (ratio <= Goal ? "" : " ✗");
    }
}
