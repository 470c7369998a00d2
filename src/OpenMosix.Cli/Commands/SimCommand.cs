using System.Text.Json;
using OpenMosix.Simulator;
using OpenMosix.Simulator.Engine;
using OpenMosix.Simulator.Specs;

namespace OpenMosix.Cli.Commands;

/// <summary>`om sim`: the real balancing policy over N virtual nodes in virtual time, against simple placements.</summary>
internal static class SimCommand
{
    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Virtual nodes.", DefaultValueFactory = _ => 100 };
        var jobs = new Option<string>("--jobs")
        {
            Description = "COUNT[,len=DIST][,mem=DIST][,at=0|poisson:RATE][,on=random|NODE|first:K]: job count, length in " +
                          "reference-CPU seconds, memory in MiB (DIST: X, uniform:A-B or exp:MEAN), arrival (all at once, or " +
                          "RATE per second), and the node(s) they start on. Default: 1000,len=uniform:30-90,mem=uniform:16-256,at=0,on=random.",
        };
        var tree = new Option<string>("--tree")
        {
            Description = "Process trees instead of --jobs, parent t on node t and its children born there: " +
                          "fork:K[,parents=P][,len=DIST][,mem=DIST] (each parent forks K CPU-bound children at once and waits; " +
                          "default len=uniform:30-90,mem=uniform:16-256) or make:M[,j=N][,link=DIST][,parents=P][,len=DIST][,mem=DIST] " +
                          "(each driver keeps N of its M compile jobs running, then runs a link job; default j=16,link=5," +
                          "len=uniform:0.2-3,mem=uniform:16-128). P defaults to 1.",
        };
        var smallMove = new Option<double>("--small-move-ms")
        {
            Description = "What moving a small process (a child placed at exec) costs, freeze to running again, in ms; a node " +
                          "sends at most two at a time, and an unknown program is placed after a probation of twice this.",
            DefaultValueFactory = _ => 40,
        };
        var noExecPlacement = new Option<bool>("--no-exec-placement")
        {
            Description = "openmosix leaves the children of --tree where they are born and lets the balancer alone move them (for comparison).",
        };
        var speeds = new Option<string>("--speeds")
        {
            Description = "Node speeds, 10000 = the reference CPU: X, A,B,C (cycled over the nodes) or uniform:A-B.",
            DefaultValueFactory = _ => "10000",
        };
        var policy = new Option<string>("--policy")
        {
            Description = "openmosix (start where they arrive, then the balancer; the children of --tree are placed at exec), none (stay where they arrive), random or " +
                          "roundrobin (placed once on arrival), or all (each of them, side by side).",
            DefaultValueFactory = _ => "all",
        };
        policy.AcceptOnlyFromAmong("openmosix", "none", "random", "roundrobin", "all");
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice: the same seed, the same run.", DefaultValueFactory = _ => 1 };
        var cpus = new Option<int>("--cpus") { Description = "CPUs per node.", DefaultValueFactory = _ => 1 };
        var memory = new Option<double>("--node-memory") { Description = "Memory per node, MiB.", DefaultValueFactory = _ => 4096 };
        var bandwidth = new Option<double>("--bandwidth") { Description = "Link speed for moves, MB/s.", DefaultValueFactory = _ => 100 };
        var failures = new Option<int>("--fail") { Description = "Nodes that die at random times in the first half of the run.", DefaultValueFactory = _ => 0 };
        var window = new Option<int>("--window") { Description = "How many other nodes' load each node knows (the gossip window).", DefaultValueFactory = _ => 16 };
        var json = GlobalOptions.Json();
        var command = new Command("sim",
            "Simulate a cluster: N virtual nodes in virtual time, the real balancing policy (the one omd runs) against none, " +
            "random and round-robin placement, for independent jobs or process trees (fork-and-forget, make -jN); reports " +
            "makespan against the ideal, mean slowdown, migrations, children placed at exec and bytes moved.")
        {
            nodes, jobs, tree, smallMove, noExecPlacement, speeds, policy, seed, cpus, memory, bandwidth, failures, window, json,
        };
        command.SetAction(parse =>
        {
            var chosen = parse.GetValue(policy)!;
            var policies = chosen == "all"
                ? Enum.GetValues<PlacementPolicy>()
                : [Enum.Parse<PlacementPolicy>(chosen, ignoreCase: true)];
            SimulationOptions options;
            List<Simulation> runs;
            try
            {
                options = Options(parse);
                runs = [.. policies.Select(p => new Simulation(options with { Policy = p }))];
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                throw new UsageException(e.Message);
            }
            var reports = runs.Select(r => r.Run()).ToList();
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(reports, CliJsonContext.Default.ListSimulationReport));
            else Print(options, reports);
            return 0;
        });
        return command;

        SimulationOptions Options(ParseResult parse) => new()
        {
            Nodes = Positive(parse.GetValue(nodes), "--nodes", 65535),
            Jobs = JobSpec.Parse(parse.GetValue(jobs) is { } spec
                ? parse.GetValue(tree) is null ? spec : throw new ArgumentException("--jobs and --tree exclude each other")
                : "1000"),
            Trees = parse.GetValue(tree) is { } trees ? TreeSpec.Parse(trees) : null,
            SmallMoveSeconds = parse.GetValue(smallMove) is var ms && ms >= 0 && ms <= 600_000
                ? ms / 1000
                : throw new ArgumentException("--small-move-ms must be between 0 and 600000"),
            PlaceAtExec = !parse.GetValue(noExecPlacement),
            Speeds = SpeedSpec.Parse(parse.GetValue(speeds)!),
            Seed = parse.GetValue(seed),
            Cpus = Positive(parse.GetValue(cpus), "--cpus", 4096),
            NodeMemoryMiB = parse.GetValue(memory) > 0 ? parse.GetValue(memory) : throw new ArgumentException("--node-memory must be positive"),
            BandwidthMBps = parse.GetValue(bandwidth) > 0 ? parse.GetValue(bandwidth) : throw new ArgumentException("--bandwidth must be positive"),
            Failures = Math.Max(0, parse.GetValue(failures)),
            Window = Positive(parse.GetValue(window), "--window", 1024),
        };
    }

    private static int Positive(int value, string name, int max) =>
        value >= 1 && value <= max ? value : throw new ArgumentException($"{name} must be between 1 and {max}");

    private static void Print(SimulationOptions options, List<SimulationReport> reports)
    {
        var c = CultureInfo.InvariantCulture;
        var what = options.Trees is { } t
            ? $"{t.Parents} {(t.Kind == TreeKind.Fork ? "fork-and-forget parents" : "make drivers")}, {reports[0].Jobs} processes"
            : $"{options.Jobs.Count} jobs";
        Console.WriteLine($"{options.Nodes} nodes, {what}, seed {options.Seed}; ideal makespan {reports[0].Ideal.ToString("F1", c)} s");
        var rows = new List<string[]> { new[] { "POLICY", "MAKESPAN", "÷IDEAL", "SLOWDOWN", "MIGRATIONS", "PER JOB", "PLACED", "GB MOVED", "LOST", "OVERCOMMIT", "WALL" } };
        rows.AddRange(reports.Select(r => new[]
        {
            r.Policy,
            r.Makespan.ToString("F1", c) + " s",
            r.MakespanOverIdeal.ToString("F3", c),
            r.MeanSlowdown.ToString("F2", c),
            r.Migrations.ToString(c),
            r.MigrationsPerJob.ToString("F2", c),
            r.Placements.ToString(c),
            r.GigabytesMoved.ToString("F1", c),
            r.JobsLost.ToString(c),
            r.OvercommittedNodeSeconds.ToString("F0", c) + " s",
            r.WallSeconds.ToString("F1", c) + " s",
        }));
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
            Console.WriteLine(string.Join("  ", row.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))));
    }
}
