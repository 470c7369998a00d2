using OpenMosix.Lab;

namespace OpenMosix.Cli.Commands.Lab;

/// <summary>
/// `om lab restart | kill | revive | cut | heal NODE`: the faults tests and benchmarks inject into one node. Each is
/// a NODE argument and --name, restart and revive also --timeout for the new omd; the work is in NodeFaults.
/// </summary>
internal static class LabFaultCommands
{
    private const string TimeoutDescription = "Seconds to wait for the new omd to accept connections on its socket.";

    public static Command Restart()
    {
        var kill = new Option<bool>("--kill") { Description = "Kill omd with SIGKILL at once (a crash of omd alone: no drain; the node's other processes run on)." };
        var command = WithTimeout("restart",
            "Stop the node's omd with SIGTERM (SIGKILL if it is not gone within 15 s) and start it again as `up` does; waits until it accepts connections.",
            (layout, node, timeout, parse) => Restarted(NodeFaults.Restart(layout, node, LabOptions.OmPath(), timeout, parse.GetValue(kill)), node, parse.GetValue(kill)));
        command.Options.Add(kill);
        return command;
    }

    private static (LabFaultJson, string) Restarted(RestartReport report, int node, bool kill)
    {
        var stopped = report.Stop switch
        {
            DaemonStop.NotRunning => $"omd {report.OldPid} was not running",
            DaemonStop.Killed when kill => $"omd {report.OldPid} killed (SIGKILL)",
            DaemonStop.Killed => $"omd {report.OldPid} ignored SIGTERM for {NodeDaemons.StopGrace.TotalSeconds:F0} s and was killed",
            _ => $"omd {report.OldPid} stopped",
        };
        return (new LabFaultJson(node, "restart") { OldDaemonPid = report.OldPid, Stop = System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(report.Stop.ToString()), DaemonPid = report.StartedPid },
            $"node {node}: {stopped}; omd {report.StartedPid} started and accepting connections");
    }

    public static Command Kill() => Simple("kill",
        "Crash the node: its network cut and every process in it (its cgroups and namespaces) killed with SIGKILL at once, as if it lost power.",
        (layout, node) =>
        {
            var report = NodeFaults.Kill(layout, node);
            return (new LabFaultJson(node, "kill") { Processes = report.Processes },
                $"node {node} killed: {report.Processes} processes, network cut; `om lab revive {node}` brings it back");
        });

    public static Command Revive() => WithTimeout("revive",
        "Bring a killed node back, empty: its network reconnected and omd started fresh; waits until omd accepts connections.",
        (layout, node, timeout) =>
        {
            var daemon = NodeFaults.Revive(layout, node, LabOptions.OmPath(), timeout);
            return (new LabFaultJson(node, "revive") { DaemonPid = daemon },
                $"node {node} revived: network up, " +
                (daemon is { } pid ? $"omd {pid} accepting connections" : "no omd (the lab was made with --no-daemon)"));
        });

    public static Command Cut() => Simple("cut",
        "Partition the node: its network cut off from the others and the host, while its processes run on.",
        (layout, node) =>
        {
            NodeFaults.Cut(layout, node);
            return (new LabFaultJson(node, "cut"), $"node {node} cut off; `om lab heal {node}` reconnects it");
        });

    public static Command Heal() => Simple("heal", "End a partition made with `om lab cut`: the node's network reconnected.",
        (layout, node) =>
        {
            NodeFaults.Heal(layout, node);
            return (new LabFaultJson(node, "heal"), $"node {node} reconnected");
        });

    /// <summary>NODE must at least be a node number; whether the lab has it is the lab's to say.</summary>
    public static int ValidNode(int node) =>
        node > 0 ? node : throw new UsageException($"NODE must be a node number (1 or more), not {node}");

    private static Command Simple(string verb, string description, Func<LabLayout, int, (LabFaultJson, string)> act)
    {
        var node = LabOptions.Node("The node (1..N).");
        var name = LabOptions.Name();
        return ResultCommand.Create(verb, description, [node, name], CliJsonContext.Default.LabFaultJson,
            parse =>
            {
                var valid = ValidNode(parse.GetValue(node));
                return Done(act(new LabLayout(LabName.Parse(parse.GetRequiredValue(name))), valid));
            },
            PrintDone);
    }

    private static Command WithTimeout(string verb, string description, Func<LabLayout, int, TimeSpan, (LabFaultJson, string)> act) =>
        WithTimeout(verb, description, (layout, node, timeout, _) => act(layout, node, timeout));

    private static Command WithTimeout(string verb, string description, Func<LabLayout, int, TimeSpan, ParseResult, (LabFaultJson, string)> act)
    {
        var node = LabOptions.Node("The node (1..N).");
        var name = LabOptions.Name();
        var timeout = LabOptions.Timeout(TimeoutDescription);
        return ResultCommand.Create(verb, description, [node, name, timeout], CliJsonContext.Default.LabFaultJson,
            parse =>
            {
                var valid = ValidNode(parse.GetValue(node));
                var wait = LabOptions.ValidTimeout(parse.GetValue(timeout));
                return Done(act(new LabLayout(LabName.Parse(parse.GetRequiredValue(name))), valid, wait, parse));
            },
            PrintDone);
    }

    /// <summary>The fault's JSON, carrying the line its text form prints.</summary>
    internal static LabFaultJson Done((LabFaultJson Json, string Text) done) => done.Json with { Text = done.Text };

    internal static void PrintDone(LabFaultJson done) => Console.WriteLine(done.Text);
}
