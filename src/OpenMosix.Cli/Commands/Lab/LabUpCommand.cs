using System.Text.Json;
using OpenMosix.Lab;
using OpenMosix.Lab.State;

namespace OpenMosix.Cli.Commands.Lab;

internal static class LabUpCommand
{
    public static Command Create()
    {
        var nodes = new Option<int>("--nodes", "-n") { Description = "How many nodes.", Required = true };
        var cpus = new Option<string?>("--cpus")
        {
            Description = "CPUs per node as a CFS quota, one per node or one for all (e.g. 0.5,0.5,1); default: the machine's CPUs shared equally.",
        };
        var memory = new Option<string?>("--mem") { Description = "Memory limit per node, one per node or one for all (e.g. 1G,1G,2G); default: none." };
        var name = LabOptions.Name();
        var discovery = new Option<bool>("--discovery") { Description = "No map file: nodes find each other by multicast (om discover in each node)." };
        var noDaemon = new Option<bool>("--no-daemon") { Description = "Build the nodes but start no daemon in them." };
        var noBalance = new Option<bool>("--no-balance") { Description = "The nodes' omd do not balance load on their own: processes move only when told (om migrate)." };
        var checkpoints = new Option<int>("--checkpoint-interval")
        {
            Description = "Milliseconds between the periodic checkpoints of a process running away (0: none; at least 1000).",
            DefaultValueFactory = _ => LabSpec.DefaultCheckpointIntervalMs,
        };
        var postcopy = new Option<string?>("--postcopy")
        {
            Description = "migration.postcopy of every node's omd: auto, never or always (default: omd's, auto).",
        };
        var precopyRounds = new Option<int?>("--precopy-rounds")
        {
            Description = "migration.precopy_rounds of every node's omd: most pre-copy rounds of a move, 1 to 30 (default: omd's, 4).",
        };
        var bandwidthLimit = new Option<int?>("--bandwidth-limit")
        {
            Description = "migration.bandwidth_limit_mib_s of every node's omd: MiB/s a move sends at most, 0 for no limit (default: omd's, none).",
        };
        var timeout = LabOptions.Timeout("Seconds to wait for every node's daemon to accept connections.");
        var json = new Option<bool>("--json") { Description = "Print the new lab as JSON, as `om lab status --json` does." };
        var command = new Command("up", "Create a lab: per node a network namespace on a bridge, a mount namespace, cgroups, and omd.")
        {
            nodes, cpus, memory, name, discovery, noDaemon, noBalance, checkpoints, postcopy, precopyRounds, bandwidthLimit, timeout, json,
        };
        command.SetAction(parse => Run(parse, parse.GetValue(nodes), parse.GetValue(cpus), parse.GetValue(memory),
            parse.GetRequiredValue(name), parse.GetValue(discovery), parse.GetValue(noDaemon), parse.GetValue(timeout), parse.GetValue(noBalance),
            parse.GetValue(checkpoints), parse.GetValue(postcopy), parse.GetValue(precopyRounds), parse.GetValue(bandwidthLimit), parse.GetValue(json)));
        return command;
    }

    private static int Run(ParseResult parse, int nodes, string? cpus, string? memory, string name, bool discovery, bool noDaemon, double timeout,
        bool noBalance, int checkpointInterval, string? postcopy, int? precopyRounds, int? bandwidthLimit, bool json)
    {
        if (bandwidthLimit is < 0 or > LabSpec.MaxBandwidthLimit)
            throw new UsageException($"--bandwidth-limit {bandwidthLimit}: 0 (no limit) to {LabSpec.MaxBandwidthLimit} MiB/s");
        if (precopyRounds is < 1 or > 30) throw new UsageException($"--precopy-rounds {precopyRounds}: 1 to 30");
        if (postcopy is not null && !LabSpec.PostcopyModes.Contains(postcopy))
            throw new UsageException($"--postcopy {postcopy}: auto, never or always");
        if (checkpointInterval is < 0 or (> 0 and < 1000))
            throw new UsageException($"--checkpoint-interval {checkpointInterval}: 0 (none) or at least 1000 ms");
        var spec = new LabSpec(LabName.Parse(name), ResourceLists.Build(nodes, cpus, memory), discovery, !noDaemon, LabOptions.ValidTimeout(timeout)) { Balance = !noBalance, CheckpointIntervalMs = checkpointInterval, Postcopy = postcopy, PrecopyRounds = precopyRounds, BandwidthLimit = bandwidthLimit };
        var omPath = LabOptions.OmPath();
        using var loggers = CommandLine.Loggers(parse);
        var state = LabProvisioner.Up(spec, omPath, loggers.CreateLogger("OpenMosix.Lab"));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(LabInspector.Inspect(new LabLayout(spec.Name)), LabJsonContext.Default.LabStatus));
            return 0;
        }
        Console.WriteLine($"lab {state.Name} up: {state.Nodes.Count} nodes, 10.77.{state.Subnet}.1-{state.Nodes.Count} on bridge {spec.Name.Bridge}" +
            (noDaemon ? ", no daemons" : discovery ? ", omd and discovery running" : ", omd running"));
        Console.WriteLine($"enter a node with `om lab exec{(name == LabName.Default ? "" : $" --name {name}")} 1 -- CMD`");
        return 0;
    }
}
