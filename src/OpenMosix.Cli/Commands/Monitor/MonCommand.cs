namespace OpenMosix.Cli.Commands.Monitor;

/// <summary>`om mon`, also run as mosmon: the cluster's nodes as live bars, the way openMosix's mosmon showed them.</summary>
internal static class MonCommand
{
    public static Command Create()
    {
        var mode = new Option<string>("--mode", "-m")
        {
            Description = "What the bars show at the start: load, speed, mem (used of total) or util; keys l, s, m, u switch",
            DefaultValueFactory = _ => "load",
        };
        var interval = new Option<double>("--interval", "-i")
        {
            Description = "Seconds between two looks at omd",
            DefaultValueFactory = _ => 1.0,
        };
        var hideDead = new Option<bool>("--hide-dead") { Description = "Start with dead and unknown nodes hidden (key d toggles)" };
        var once = new Option<bool>("--once") { Description = "Print one frame as plain text (80 columns unless on a terminal) and exit" };
        var json = new Option<bool>("--json") { Description = "Print omd's view of the nodes once as JSON (as `om status --json`) and exit" };
        var command = new Command("mon",
            "Watch the cluster live, as mosmon did: a bar per node for its load, speed, memory or utilisation, dead " +
            "nodes marked x. Keys: l load, s speed, m memory, u utilisation, d show/hide dead nodes, arrows scroll, " +
            "q quit. Works over ssh in any terminal; --once and --json serve scripts.")
        {
            mode, interval, hideDead, once, json,
        };
        command.SetAction(parse =>
        {
            var state = new MonitorState(MonitorModes.Parse(parse.GetValue(mode)!), !parse.GetValue(hideDead));
            var seconds = parse.GetValue(interval);
            var every = LiveScreen<ClusterView, MonitorState>.Interval(seconds);
            using var client = new AdminClient();
            if (parse.GetValue(json) || parse.GetValue(once))
            {
                var view = client.NodesAsync().GetAwaiter().GetResult();
                JsonOutput.Print(parse, json, view, AdminJsonContext.Default.ClusterView, () => PrintOnce(view, state));
                return 0;
            }
            LiveScreen<ClusterView, MonitorState>.EnsureTerminal("mosmon");
            new LiveScreen<ClusterView, MonitorState>(() => client.NodesAsync().GetAwaiter().GetResult(),
                (view, error, s, width, height) => MonitorFrame.Render(view, error, s, width, height, DateTime.Now),
                Apply, every).Run(state);
            return 0;
        });
        return command;
    }

    /// <summary>The original's keys: l, s, m, u choose the bars, d shows or hides dead nodes; arrows scroll a wide cluster.</summary>
    private static MonitorState Apply(MonitorState state, ConsoleKeyInfo key) => key.Key switch
    {
        ConsoleKey.LeftArrow => state with { FirstColumn = Math.Max(0, state.FirstColumn - 1) },
        ConsoleKey.RightArrow => state with { FirstColumn = state.FirstColumn + 1 },
        _ when char.ToLowerInvariant(key.KeyChar) == 'd' => state with { ShowDead = !state.ShowDead, FirstColumn = 0 },
        _ when MonitorModes.FromKey(key.KeyChar) is { } mode => state with { Mode = mode },
        _ => state,
    };

    private static void PrintOnce(ClusterView view, MonitorState state)
    {
        var onTerminal = !Console.IsOutputRedirected;
        var width = onTerminal ? Console.WindowWidth : 80;
        var height = onTerminal ? Math.Min(Console.WindowHeight, 24) : 20;
        foreach (var line in MonitorFrame.Render(view, null, state, width, height, DateTime.Now)) Console.WriteLine(line.TrimEnd());
    }
}
