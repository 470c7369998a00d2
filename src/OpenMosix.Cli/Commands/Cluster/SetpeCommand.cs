using OpenMosix.Cluster.Map;

namespace OpenMosix.Cli.Commands.Cluster;

/// <summary>The classic setpe: check a map, load it into the running omd, print the map in use, or leave.</summary>
internal static class SetpeCommand
{
    public static Command Create()
    {
        var write = new Option<bool>("-w") { Description = "Load the map given with -f into the running omd (nodes are added and removed live)." };
        var check = new Option<bool>("-c") { Description = "Only check the map given with -f; change nothing." };
        var read = new Option<bool>("-r") { Description = "Print the map omd is using." };
        var off = new Option<bool>("-off") { Description = "Take this node out of the cluster." };
        var file = new Option<string?>("-f") { Description = "The map file (classic format, see docs/map-file.md); - reads stdin." };
        var json = new Option<bool>("--json")
        {
            Description = "Print the result as JSON: the map in use (-r, as showmap --json), the nodes added, removed and changed (-w, -off), the file and its node count (-c).",
        };
        var command = new Command("setpe",
            "Load, check or print the cluster map (/etc/openmosix.map), as the classic setpe did. Also run as `setpe`. " +
            "Loading and leaving need root.")
        {
            write, check, read, off, file, json,
        };
        command.SetAction(parse =>
        {
            var chosen = new[] { parse.GetValue(write), parse.GetValue(check), parse.GetValue(read), parse.GetValue(off) }
                .Count(x => x);
            if (chosen != 1) throw new UsageException("give exactly one of -w, -c, -r, -off");
            if (parse.GetValue(read))
            {
                var inUse = AdminCall.Run(c => c.MapAsync());
                JsonOutput.Print(parse, json, inUse, AdminJsonContext.Default.MapView, () => Console.Write(inUse.Text));
                return 0;
            }
            if (parse.GetValue(off))
            {
                var left = AdminCall.Run(c => c.LeaveClusterAsync());
                JsonOutput.Print(parse, json, left, AdminJsonContext.Default.MapChange,
                    () => Console.WriteLine($"left the cluster ({left.Removed.Count} nodes forgotten)"));
                return 0;
            }
            var path = parse.GetValue(file) ?? throw new UsageException("-w and -c need the map file: -f FILE");
            var (name, text) = path == "-" ? ("stdin", Console.In.ReadToEnd()) : (path, File.ReadAllText(path));
            var map = ClusterMap.Parse(text, name);
            if (parse.GetValue(check))
            {
                JsonOutput.Print(parse, json, new MapCheckJson(name, map.Count), CliJsonContext.Default.MapCheckJson,
                    () => Console.WriteLine($"{name}: valid map of {map.Count} nodes"));
                return 0;
            }
            var change = AdminCall.Run(c => c.LoadMapAsync(new MapUpload(name, text, Path.GetFullPath(name))));
            JsonOutput.Print(parse, json, change, AdminJsonContext.Default.MapChange,
                () => Console.WriteLine($"map of {map.Count} nodes loaded: {change.Added.Count} added, {change.Removed.Count} removed, " +
                                        $"{change.Changed.Count} changed"));
            return 0;
        });
        return command;
    }
}

/// <summary>setpe -c --json: the map checked (a path, or stdin) and how many nodes it names.</summary>
internal sealed record MapCheckJson(string File, int Nodes);
