using System.Globalization;
using OpenMosix.Bench.Cluster;

// Sections run in order and print one after the other; a measured real-lab section (idle CPU and RSS of omd in a
// 4-node lab) slots in next to the simulated convergence without touching it.
var options = BenchOptions.Parse(args);
if (options.LabSizes.Count > 0)
{
    LabBench.Run(Console.Out, options.LabSizes, options.IdleWindow, options.Markdown);
    if (options.LabOnly) return 0;
}
var results = new List<ConvergenceResult>();
foreach (var size in options.Sizes)
{
    foreach (var seed in Enumerable.Range(1, options.Seeds))
    {
        Console.Error.WriteLine($"bench/cluster: {size} nodes, seed {seed}");
        results.Add(ConvergenceBench.Run(size, seed, options.Deaths, options.Warm));
    }
}
ConvergenceReport.Print(Console.Out, results, options.Markdown);
return 0;

internal sealed record BenchOptions(IReadOnlyList<int> Sizes, int Seeds, bool Deaths, bool Markdown,
    IReadOnlyList<int> LabSizes, TimeSpan IdleWindow, bool LabOnly, bool Warm)
{
    public static BenchOptions Parse(string[] args)
    {
        var sizes = new List<int> { 4, 8, 16, 64, 256, 1000 };
        var seeds = 3;
        var deaths = true;
        var markdown = false;
        var labSizes = new List<int>();
        var idle = TimeSpan.FromSeconds(30);
        var labOnly = false;
        var warm = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--sizes": sizes = [.. args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                case "--seeds": seeds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--no-deaths": deaths = false; break;
                case "--warm": warm = true; break;
                case "--markdown": markdown = true; break;
                case "--lab": labSizes = [2, 4, 8]; break;
                case "--lab-only": labSizes = labSizes.Count > 0 ? labSizes : [2, 4, 8]; labOnly = true; break;
                case "--lab-sizes": labSizes = [.. args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                case "--idle-seconds": idle = TimeSpan.FromSeconds(int.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        return new BenchOptions(sizes, seeds, deaths, markdown, labSizes, idle, labOnly, warm);
    }
}
