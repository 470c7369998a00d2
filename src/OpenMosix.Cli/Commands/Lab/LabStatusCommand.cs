using System.Text.Json;
using OpenMosix.Lab;
using OpenMosix.Lab.State;

namespace OpenMosix.Cli.Commands.Lab;

internal static class LabStatusCommand
{
    public static Command Create()
    {
        var json = GlobalOptions.Json();
        var name = LabOptions.Name();
        var command = new Command("status", "Show each node of a lab: address, network namespace, CPU quota, memory limit, daemons.")
        {
            json, name,
        };
        command.SetAction(parse => Run(LabName.Parse(parse.GetRequiredValue(name)), parse.GetValue(json)));
        return command;
    }

    private static int Run(LabName name, bool json)
    {
        var status = LabInspector.Inspect(new LabLayout(name));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(status, LabJsonContext.Default.LabStatus));
            return 0;
        }
        Console.WriteLine($"lab {status.Name}: {status.Subnet} on bridge {status.Bridge}, {(status.Discovery ? "discovery" : "map")}, " +
            $"created {status.Created.ToLocalTime():yyyy-MM-dd HH:mm:ss}");
        var table = new TextTable("NODE", "ADDRESS", "NETNS", "CPUS", "MEMORY", "DAEMON", "DISCOVERY", "FAULTS");
        foreach (var n in status.Nodes)
            table.Add(
                n.Id.ToString(CultureInfo.InvariantCulture),
                n.Address,
                n.NetnsPresent ? "yes" : "missing",
                n.Cpus is { } c ? c.ToString("0.###", CultureInfo.InvariantCulture) : "-",
                n.MemoryLimitBytes is { } m ? Bytes(m) : "-",
                Process(n.DaemonPid, n.DaemonAlive, n.DaemonSocketReady ? ", ready" : ""),
                Process(n.DiscoverPid, n.DiscoverAlive, ""),
                Faults(n));
        Console.Write(table.ToString());
        return 0;
    }

    private static string Process(int? pid, bool alive, string extra) =>
        pid is { } p ? $"{p} ({(alive ? "alive" : "dead")}{extra})" : "-";

    /// <summary>What `om lab kill`, `cut`, `netem`, `restart` and `revive` did to the node, "-" when nothing.</summary>
    private static string Faults(NodeStatus n)
    {
        var faults = new List<string>();
        if (n.Killed) faults.Add("killed");
        else if (n.NetworkCut) faults.Add("cut");
        if (n.Netem is { } netem) faults.Add($"netem {netem}");
        if (n.DaemonRestarts > 0) faults.Add($"omd restarted {n.DaemonRestarts}x");
        if (n.Revivals > 0) faults.Add($"revived {n.Revivals}x");
        return faults.Count == 0 ? "-" : string.Join("; ", faults);
    }

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30}G",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };
}
