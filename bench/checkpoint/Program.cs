using System.Globalization;
using OpenMosix.Bench.Checkpoint;

// Every measurement of one size is interleaved with its floor, repetition by repetition, so that the noise of these
// 2-core machines falls on both sides of each ratio alike. Medians are reported.
var options = BenchOptions.Parse(args);
var rows = new List<SizeResult>();
foreach (var mib in options.SizesMiB)
{
    Console.Error.WriteLine($"bench/checkpoint: {mib} MiB, {options.Repetitions(mib)} repetitions");
    rows.Add(SizeBench.Run(options, mib));
}
Report.Print(Console.Out, rows, options.Markdown);
return 0;

internal sealed record BenchOptions(string Target, string Scratch, IReadOnlyList<int> SizesMiB, bool Markdown)
{
    public int Repetitions(int mib) => mib <= 64 ? 7 : mib <= 512 ? 4 : 3;

    public static BenchOptions Parse(string[] args)
    {
        string? target = null, scratch = null;
        var sizes = new List<int> { 64, 512, 2048 };
        var markdown = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--target": target = args[++i]; break;
                case "--scratch": scratch = args[++i]; break;
                case "--sizes": sizes = [.. args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                case "--markdown": markdown = true; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        return new BenchOptions(
            target ?? throw new ArgumentException("--target TOUCHMEM is required"),
            scratch ?? Path.GetTempPath(), sizes, markdown);
    }
}
