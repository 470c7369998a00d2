namespace OpenMosix.Cli.Commands.Cluster;

internal static class StatusCommand
{
    public static Command Create()
    {
        return ResultCommand.Create("status",
            "Show every node of the cluster as this node's omd knows it: state, load, speed, CPUs, memory, flags and " +
            "how old the information is, and the node protocol versions it speaks (as its last node link's hello said). `*` marks this node. The JSON form is documented in docs/omd.md.",
            [], AdminJsonContext.Default.ClusterView, _ => AdminCall.Run(c => c.NodesAsync()), Print);
    }

    private static void Print(ClusterView view)
    {
        if (view.Mode == "off")
            Console.WriteLine($"node {view.Self} ({view.Address}) is not in a cluster: load a map with `setpe -w -f FILE` or run omdiscd");
        Console.Write(Format(view));
    }

    public static string Format(ClusterView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var table = new TextTable("NODE", "ADDRESS", "STATE", "LOAD", "SPEED", "CPUS", "CAPACITY", "FREE/TOTAL", "UTIL", "FLAGS", "AGE", "PROTO");
        foreach (var node in view.Nodes)
        {
            var known = node.AgeMs >= 0;
            table.Add(
                node.Id.ToString(CultureInfo.InvariantCulture) + (node.IsSelf ? "*" : ""),
                node.Address,
                node.State.Name(),
                known ? node.Load.ToString("0.00", CultureInfo.InvariantCulture) : "-",
                known ? node.Speed.ToString(CultureInfo.InvariantCulture) : "-",
                known ? node.Cpus.ToString(CultureInfo.InvariantCulture) : "-",
                known ? node.Capacity.ToString(CultureInfo.InvariantCulture) : "-",
                known ? $"{Units.Bytes(node.FreeMemory)}/{Units.Bytes(node.TotalMemory)}" : "-",
                known ? node.Utilization.ToString("0%", CultureInfo.InvariantCulture) : "-",
                node.Flags.Count == 0 ? "-" : string.Join(',', node.Flags),
                Units.Age(node.AgeMs),
                node.Protocol.Length == 0 ? "-" : node.Protocol);
        }
        return table.ToString();
    }
}
