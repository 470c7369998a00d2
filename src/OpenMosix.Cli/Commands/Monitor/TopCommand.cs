namespace OpenMosix.Cli.Commands.Monitor;

/// <summary>`om top`, also run as mtop: top for openMosix, with the node each process runs on.</summary>
internal static class TopCommand
{
    public static Command Create()
    {
        var interval = new Option<double>("--interval", "-d")
        {
            Description = "Seconds between two looks at omd (top's -d)",
            DefaultValueFactory = _ => 2.0,
        };
        var once = new Option<bool>("--once") { Description = "Print the table once as plain text (as wide as the terminal; 200 columns when not on one) and exit" };
        var json = new Option<bool>("--json") { Description = "Print the process list once as JSON (as `om ps --json`) and exit" };
        var command = new Command("top",
            "Watch this node's openMosix processes live, as mtop did: its own processes wherever they run and its guests, " +
            "with the node each runs on and the CPU and memory it uses there (a moved process's copy reports them home), " +
            "busiest first. Keys: c %CPU, m memory, t CPU time, p PID, n node order the rows; q quits.")
        {
            interval, once, json,
        };
        command.SetAction(parse =>
        {
            var seconds = parse.GetValue(interval);
            var every = LiveScreen<ProcessList, TopState>.Interval(seconds);
            using var client = new AdminClient();
            if (parse.GetValue(json) || parse.GetValue(once))
            {
                var list = client.ProcessesAsync().GetAwaiter().GetResult();
                JsonOutput.Print(parse, json, list, AdminJsonContext.Default.ProcessList, () => PrintOnce(list));
                return 0;
            }
            LiveScreen<ProcessList, TopState>.EnsureTerminal("mtop");
            new LiveScreen<ProcessList, TopState>(() => client.ProcessesAsync().GetAwaiter().GetResult(),
                (list, error, state, width, height) => TopFrame.Render(list, error, state, width, height, DateTime.Now),
                (state, key) => TopFrame.FromKey(key.KeyChar) is { } order ? state with { Order = order } : state,
                every).Run(new TopState());
            return 0;
        });
        return command;
    }

    private static void PrintOnce(ProcessList list)
    {
        var onTerminal = !Console.IsOutputRedirected;
        var width = onTerminal ? Console.WindowWidth : 200;
        var height = onTerminal ? Console.WindowHeight : list.Processes.Count + 4;
        foreach (var line in TopFrame.Render(list, null, new TopState(), width, height, DateTime.Now)) Console.WriteLine(line.TrimEnd());
    }
}
