using System.Diagnostics;
using System.Globalization;
using OpenMosix.Admin;

namespace OpenMosix.Bench.Cluster;

/// <summary>
/// The real lab: `om lab up` time, omd's idle CPU and RSS per node, and how long a change (a node's speed) takes to
/// reach every node over real UDP between network namespaces. Needs root and the om binary (OM_BIN, else
/// artifacts/bin/om).
/// </summary>
internal static class LabBench
{
    private static readonly TimeSpan Round = TimeSpan.FromSeconds(1);

    public static void Run(TextWriter output, IReadOnlyList<int> sizes, TimeSpan idleWindow, bool markdown)
    {
        var om = OmPath();
        var rows = new List<string[]>();
        IdleResult? idle = null;
        foreach (var size in sizes)
        {
            var name = $"bc{size}";
            Om(om, "lab", "down", "--name", name);
            var up = Stopwatch.StartNew();
            Om(om, "lab", "up", "--nodes", $"{size}", "--name", name, "--timeout", "60");
            var upTime = up.Elapsed;
            try
            {
                var sockets = Enumerable.Range(1, size).Select(i => $"/run/omlab/{name}/n{i}/run/omd.sock").ToList();
                if (size == 4)
                {
                    Console.Error.WriteLine($"bench/cluster: idle cost of omd in a 4-node lab over {idleWindow.TotalSeconds:F0} s");
                    idle = MeasureIdle(sockets, idleWindow);
                }
                Console.Error.WriteLine($"bench/cluster: lab of {size}: spreading a change");
                var spreads = Enumerable.Range(0, 3).Select(i => MeasureSpread(sockets, 20000 + i * 111 + size)).ToList();
                var median = spreads.Order().ElementAt(spreads.Count / 2);
                rows.Add([
                    $"{size}",
                    upTime.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture),
                    median.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture),
                    spreads.Max().TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture),
                    (median / Round / Math.Log2(size)).ToString("0.00", CultureInfo.InvariantCulture),
                ]);
            }
            finally
            {
                Om(om, "lab", "down", "--name", name);
            }
        }
        Print(output, rows, idle, markdown);
    }

    private sealed record IdleResult(double CpuPercentMean, double CpuPercentMax, double RssMbMean, double RssMbMax);

    private static IdleResult MeasureIdle(IReadOnlyList<string> sockets, TimeSpan window)
    {
        var pids = sockets.Select(s =>
        {
            using var client = new AdminClient(s);
            return client.HealthAsync().GetAwaiter().GetResult().Pid;
        }).ToList();
        // Start-up (calibration, first map) is not idle: let it pass.
        Thread.Sleep(TimeSpan.FromSeconds(3));
        var before = pids.Select(CpuTicks).ToList();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(window);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = pids.Select((pid, i) => (CpuTicks(pid) - before[i]) / 100.0 / seconds * 100).ToList();
        var rss = pids.Select(RssMb).ToList();
        return new IdleResult(cpu.Average(), cpu.Max(), rss.Average(), rss.Max());
    }

    /// <summary>Sets node 1's speed and waits until every node's omd reports it.</summary>
    private static TimeSpan MeasureSpread(IReadOnlyList<string> sockets, long speed)
    {
        var clients = sockets.Select(s => new AdminClient(s)).ToList();
        try
        {
            var clock = Stopwatch.StartNew();
            clients[0].SetSpeedAsync(speed).GetAwaiter().GetResult();
            var waiting = Enumerable.Range(0, clients.Count).ToHashSet();
            while (waiting.Count > 0)
            {
                foreach (var i in waiting.ToList())
                    if (clients[i].NodeAsync(1).GetAwaiter().GetResult().Speed == speed) waiting.Remove(i);
                if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("a change did not spread within 60 s");
                Thread.Sleep(20);
            }
            return clock.Elapsed;
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
    }

    private static long CpuTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private static double RssMb(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    private static void Print(TextWriter output, List<string[]> rows, IdleResult? idle, bool markdown)
    {
        string[] header = ["nodes", "lab up (s)", "change everywhere, median (s)", "max (s)", "rounds / log2 N"];
        output.WriteLine();
        output.WriteLine(markdown ? "#### Real lab (network namespaces, 1 s gossip rounds)" : "Real lab (network namespaces, 1 s gossip rounds)");
        output.WriteLine();
        if (markdown)
        {
            output.WriteLine("| " + string.Join(" | ", header) + " |");
            output.WriteLine("|" + string.Concat(header.Select(_ => "---:|")));
            foreach (var row in rows) output.WriteLine("| " + string.Join(" | ", row) + " |");
        }
        else
        {
            output.WriteLine(string.Join("  ", header));
            foreach (var row in rows) output.WriteLine(string.Join("  ", row.Select((c, i) => c.PadLeft(header[i].Length))));
        }
        if (idle is not null)
        {
            output.WriteLine();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"omd idle in a 4-node lab: CPU {idle.CpuPercentMean:0.00} % of a core on average, {idle.CpuPercentMax:0.00} % at most (goal < 0.5 %); " +
                $"RSS {idle.RssMbMean:0.0} MB on average, {idle.RssMbMax:0.0} MB at most (goal < 60 MB)"));
        }
    }

    private static string OmPath()
    {
        if (Environment.GetEnvironmentVariable("OM_BIN") is { Length: > 0 } bin) return bin;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "OpenMosix.slnx")))
                return Path.Combine(dir.FullName, "artifacts", "bin", "om");
        throw new FileNotFoundException("om not found: set OM_BIN");
    }

    private static void Om(string om, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(om, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 && arguments[1] != "down")
            throw new InvalidOperationException($"om {string.Join(' ', arguments)} failed: {error.Result.Trim()}");
    }
}
