using System.Globalization;

namespace OpenMosix.Bench.Checkpoint;

/// <summary>
/// Prints each cost next to its floor as median (min–max) over the repetitions, the ratios as the median of the
/// per-repetition ratios (each cost divided by the floor measured beside it), the load average over the runs, and the
/// issue's goals beside the ratios.
/// </summary>
internal static class Report
{
    private const double DumpGoal = 1.2, DumpToFileGoal = 1.5, RestoreGoal = 1.3, SizeGoal = 1.05;

    public static void PrintRepetition(TextWriter output, int mib, int rep, Repetition run) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {mib} MiB #{rep + 1}: load {run.Load:F2}  raw read {Ms(run.RawRead)}  dump→null {Ms(run.DumpToNull)} ({run.DumpRatio:F2})  " +
            $"raw write {Ms(run.RawWrite)}  restore {Ms(run.Restore)} ({run.RestoreRatio:F2})  dump→discard {Ms(run.DumpEngineOnly)}  dump→file {Ms(run.DumpToFile)}"));

    public static void Print(TextWriter output, IReadOnlyList<SizeResult> rows, bool markdown)
    {
        var header = new[]
        {
            "touched", "runs", "load", "raw read", "dump→null", "ratio", "raw write", "restore", "ratio",
            "dump→discard", "dump→file", "ratio", "image/touched", "THP",
        };
        var lines = rows.Select(r => new[]
        {
            $"{r.MiB} MiB", r.Runs.Count.ToString(CultureInfo.InvariantCulture), Spread.Of(r.Runs.Select(x => x.Load)).Format("F1"),
            Times(r, x => x.RawRead), Times(r, x => x.DumpToNull), Ratio(r, x => x.DumpRatio, DumpGoal),
            Times(r, x => x.RawWrite), Times(r, x => x.Restore), Ratio(r, x => x.RestoreRatio, RestoreGoal),
            Times(r, x => x.DumpEngineOnly), Times(r, x => x.DumpToFile), Ratio(r, x => x.DumpToFileRatio, DumpToFileGoal),
            Size((double)r.ImageBytes / r.TouchedBytes), $"{r.TargetHugeBytes >> 20} MiB",
        }).ToList();
        if (markdown)
        {
            output.WriteLine("| " + string.Join(" | ", header) + " |");
            output.WriteLine("|" + string.Concat(Enumerable.Repeat("---|", header.Length)));
            foreach (var line in lines) output.WriteLine("| " + string.Join(" | ", line) + " |");
        }
        else
        {
            var widths = header.Select((h, i) => Math.Max(h.Length, lines.Max(l => l[i].Length))).ToArray();
            output.WriteLine(string.Join("  ", header.Select((h, i) => h.PadLeft(widths[i]))));
            foreach (var line in lines) output.WriteLine(string.Join("  ", line.Select((c, i) => c.PadLeft(widths[i]))));
        }
        output.WriteLine();
        output.WriteLine("times in ms and ratios: median (min–max) over the runs; each ratio is taken within one run, cost over the floor measured beside it.");
        output.WriteLine($"ratios: dump→null / raw read (goal ≤ {DumpGoal}), restore / raw write (goal ≤ {RestoreGoal}), " +
                         $"dump→file / (raw read + raw write) (goal ≤ {DumpToFileGoal}), image size / touched bytes (goal ≤ {SizeGoal}); ✗ marks a median that misses its goal.");
        output.WriteLine("THP: the target's memory in transparent huge pages (the raw read reads the same pages; the restored process and the raw write's tmpfs file get what the system's THP mode gives).");
    }

    private static string Times(SizeResult r, Func<Repetition, TimeSpan> pick) => Spread.OfTimes(r.Runs.Select(pick)).Format("F1");

    private static string Ratio(SizeResult r, Func<Repetition, double> pick, double goal)
    {
        var spread = Spread.Of(r.Runs.Select(pick));
        return spread.Format("F2") + (spread.Median <= goal ? "" : " ✗");
    }

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture) + " ms";

    private static string Size(double ratio) => ratio.ToString("F3", CultureInfo.InvariantCulture) + (ratio <= SizeGoal ? "" : " ✗");
}
