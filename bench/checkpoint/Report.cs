using System.Globalization;

namespace OpenMosix.Bench.Checkpoint;

/// <summary>Prints the results with each cost next to its floor, and the goals beside the ratios.</summary>
internal static class Report
{
    private const double DumpGoal = 1.5, RestoreGoal = 2.0, SizeGoal = 1.05;

    public static void Print(TextWriter output, IReadOnlyList<SizeResult> rows, bool markdown)
    {
        var header = new[] { "touched", "raw read", "dump→discard", "dump→null", "ratio", "raw write", "dump→file", "ratio", "restore", "ratio", "image/touched" };
        var lines = rows.Select(r => new[]
        {
            $"{r.MiB} MiB",
            Ms(r.RawRead), Ms(r.DumpEngineOnly), Ms(r.DumpToNull), Ratio(r.DumpToNull, r.RawRead, DumpGoal),
            Ms(r.RawWrite), Ms(r.DumpToFile), Ratio(r.DumpToFile, r.RawRead + r.RawWrite, DumpGoal),
            Ms(r.Restore), Ratio(r.Restore, r.RawWrite, RestoreGoal),
            Size((double)r.ImageBytes / r.TouchedBytes),
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
        output.WriteLine($"ratios: dump→null / raw read (goal ≤ {DumpGoal}), dump→file / (raw read + raw write) (goal ≤ {DumpGoal}), " +
                         $"restore / raw write (goal ≤ {RestoreGoal}), image size / touched bytes (goal ≤ {SizeGoal}); ✗ marks a missed goal.");
    }

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture) + " ms";

    private static string Ratio(TimeSpan cost, TimeSpan floor, double goal)
    {
        var ratio = cost / floor;
        return ratio.ToString("F2", CultureInfo.InvariantCulture) + (ratio <= goal ? "" : " ✗");
    }

    private static string Size(double ratio) => ratio.ToString("F3", CultureInfo.InvariantCulture) + (ratio <= SizeGoal ? "" : " ✗");
}
