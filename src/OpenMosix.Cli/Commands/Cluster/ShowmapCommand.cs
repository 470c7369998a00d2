using OpenMosix.Cluster.Map;

namespace OpenMosix.Cli.Commands.Cluster;

internal static class ShowmapCommand
{
    public static Command Create()
    {
        var file = new Option<string?>("-f", "--file") { Description = "Show this map file instead of the one omd uses." };
        return ResultCommand.Create("showmap", "Print the cluster map as a table: node id, address, aliases. Also run as `showmap`.",
            [file], AdminJsonContext.Default.MapView,
            parse => parse.GetValue(file) is { } path ? FromFile(path) : AdminCall.Run(c => c.MapAsync()),
            Print);
    }

    private static void Print(MapView view)
    {
        if (view.Nodes.Count == 0)
        {
            Console.WriteLine("no map loaded");
            return;
        }
        var table = new TextTable("NODE", "ADDRESS", "ALIASES");
        foreach (var node in view.Nodes)
            table.Add(node.Id.ToString(CultureInfo.InvariantCulture), node.Address,
                node.Aliases.Count == 0 ? "-" : string.Join(',', node.Aliases));
        Console.Write(table.ToString());
    }

    private static MapView FromFile(string path)
    {
        var map = ClusterMap.Load(path);
        return new MapView(Path.GetFullPath(path), map.ToText(),
            [.. map.Nodes.Select(n => new MapNode(n.Id, n.Address.ToString(), [.. n.Aliases.Select(a => a.ToString())]))]);
    }
}
