using System.Globalization;
using OpenMosix.Bench.Cluster;

// Sections run in order and print one after the other; a measured real-lab section (idle CPU and RSS of omd in a
// 4-node lab) slots in next to the simulated convergence without touching it.
var options = BenchOptions.Parse(args);
var results = new List<ConvergenceResult>();
foreach (var size in options.Sizes)
{
    foreach (var seed in Enumerable.Range(1, options.Seeds))
    {
        Console.Error.WriteLine($"bench/cluster: {size} nodes, seed {seed}");
        results.Add(ConvergenceBench.Run(size, seed, options.Deaths));
    }
}
ConvergenceReport.Print(Console.Out, results, options.Markdown);
return 0;

internal sealed record BenchOptions(IReadOnlyList<int> Sizes, int Seeds, bool Deaths, bool Markdown)
{
    public static BenchOptions Parse(string[] args)
    {
        var sizes = new List<int> { 4, 8, 16, 64, 256, 1000 };
        var seeds = 3;
        var deaths = true;
        var markdown = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--sizes": sizes = [.. args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                case "--seeds": seeds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--no-deaths": deaths = false; break;
                case "--markdown": markdown = true; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        return new BenchOptions(sizes, seeds, deaths, markdown);
    }
}
