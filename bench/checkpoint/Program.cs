using System.Globalization;
using OpenMosix.Bench.Checkpoint;

// Every measurement of one size is interleaved with its floor, repetition by repetition (ABBA), so that the noise of
// these 2-core machines falls on both sides of each ratio alike. Medians with their range are reported; at least 5
// repetitions even for 2 GiB, because on this VM the cost of fresh memory varies up to 2x with the hypervisor
// reclaiming free pages. --runs N asks for more.
var options = BenchOptions.Parse(args);
var loadBefore = File.ReadAllText("/proc/loadavg").Split(' ')[0];
if (options.Threads > 1)
{
    foreach (var mib in options.SizesMiB)
    {
        Console.Error.WriteLine($"bench/checkpoint: {mib} MiB, {options.Threads} threads against 1, {options.Repetitions(mib)} repetitions");
        ThreadBench.Run(options, mib, options.Threads, options.Busy, Console.Out);
    }
    Console.WriteLine($"load average: {loadBefore} before, {File.ReadAllText("/proc/loadavg").Split(' ')[0]} after");
    return 0;
}
// One repetition first, not counted: the first dump and restore of a process pay once for what later ones reuse
// (code compiled, buffers and threads made), up to 20x a later one's time.
Console.Error.WriteLine("bench/checkpoint: warm-up (not counted)");
SizeBench.Run(options, Math.Min(64, options.SizesMiB.Min()), Console.Error, repetitions: 1);
var rows = new List<SizeResult>();
foreach (var mib in options.SizesMiB)
{
    Console.Error.WriteLine($"bench/checkpoint: {mib} MiB, {options.Repetitions(mib)} repetitions");
    rows.Add(SizeBench.Run(options, mib, Console.Error));
}
Report.Print(Console.Out, rows, options.Markdown);
Console.WriteLine(options.ColdMemory
    ? "memory: raw write and restore both start from memory left free for 5 s (reclaimed by the host: cold)"
    : "memory: raw write and restore both start from memory freed just before (backed by the host: warm)");
Console.WriteLine($"load average: {loadBefore} before, {File.ReadAllText("/proc/loadavg").Split(' ')[0]} after");
return 0;

internal sealed record BenchOptions(string Target, string Scratch, IReadOnlyList<int> SizesMiB, bool Markdown, bool ColdMemory, int Threads, bool Busy, int Runs,
    bool DumpOnly = false)
{
    public int Repetitions(int mib) => Math.Max(Runs, mib <= 64 ? 9 : 5);

    public static BenchOptions Parse(string[] args)
    {
        string? target = null, scratch = null;
        var sizes = new List<int> { 64, 512, 2048 };
        var markdown = false;
        var cold = false;
        var threads = 1;
        var busy = false;
        var runs = 0;
        var dumpOnly = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--target": target = args[++i]; break;
                case "--scratch": scratch = args[++i]; break;
                case "--sizes": sizes = [.. args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                case "--markdown": markdown = true; break;
                case "--cold-memory": cold = true; break;
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--busy": busy = true; break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--dump-only": dumpOnly = true; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        return new BenchOptions(
            target ?? throw new ArgumentException("--target TOUCHMEM is required"),
            scratch ?? Path.GetTempPath(), sizes, markdown, cold, threads, busy, runs, dumpOnly);
    }
}
