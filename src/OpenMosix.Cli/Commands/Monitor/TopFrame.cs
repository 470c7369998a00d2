namespace OpenMosix.Cli.Commands.Monitor;

/// <summary>How mtop orders its rows: the keys c, m, t, p, n choose.</summary>
internal enum TopOrder
{
    Cpu,
    Memory,
    Time,
    Pid,
    Node,
}

internal sealed record TopState(TopOrder Order = TopOrder.Cpu);

/// <summary>
/// One screen of mtop: top's table of this node's openMosix processes, its own and its guests, with the node each
/// runs on and what it uses there (a moved process's copy reports its CPU and memory home), busiest first.
/// A pure function of omd's process list, tested without a terminal; `--once` prints it.
/// </summary>
internal static class TopFrame
{
    public const string Keys = "c)pu m)emory t)ime p)id n)ode q)uit";

    public static IReadOnlyList<string> Render(ProcessList? list, string? error, TopState state, int width, int height, DateTime now)
    {
        if (width < 40 || height < 5) return [Fit($"mtop needs at least 40x5, this terminal is {width}x{height}", width)];
        var rows = Order(list?.Processes ?? [], state.Order).ToList();
        var clock = now.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        var title = list is null
            ? "mtop"
            : $"mtop · node {list.Self} · {rows.Count} processes: {rows.Count(r => r.State == "home")} here, " +
              $"{rows.Count(r => r.State is "remote" or "migrating")} away, {rows.Count(r => r.State == "guest")} guests · %CPU {rows.Sum(r => r.CpuPercent).ToString("0", CultureInfo.InvariantCulture)}";
        var lines = new List<string>
        {
            Fit(title.PadRight(Math.Max(0, width - clock.Length - 1)) + " " + clock, width),
            Fit(error is null ? "" : $"cannot ask omd: {error}", width),
        };
        var table = new TextTable("PID", "USER", "HOME", "NODE", "STATE", "%CPU", "TIME", "MEM", "NMIGS", "COMMAND");
        foreach (var r in rows.Take(Math.Max(0, height - 4)))
            table.Add(r.Pid.ToString(CultureInfo.InvariantCulture), UserName(r.Uid), r.Home.ToString(CultureInfo.InvariantCulture),
                r.Where.ToString(CultureInfo.InvariantCulture), r.State, r.CpuPercent.ToString("0.0", CultureInfo.InvariantCulture),
                Time(r.CpuSeconds), r.MemoryBytes > 0 ? Units.Bytes(r.MemoryBytes) : "-", r.Migrations.ToString(CultureInfo.InvariantCulture), r.Command);
        lines.AddRange(table.ToString().TrimEnd('\n').Split('\n').Select(l => Fit(l, width)));
        while (lines.Count < height - 1) lines.Add("");
        lines.Add(Fit(Keys + $" [by {state.Order.ToString().ToLowerInvariant()}]", width));
        return lines;
    }

    public static TopOrder? FromKey(char key) => char.ToLowerInvariant(key) switch
    {
        'c' => TopOrder.Cpu,
        'm' => TopOrder.Memory,
        't' => TopOrder.Time,
        'p' => TopOrder.Pid,
        'n' => TopOrder.Node,
        _ => null,
    };

    private static IEnumerable<ProcessRow> Order(IEnumerable<ProcessRow> rows, TopOrder order) => order switch
    {
        TopOrder.Memory => rows.OrderByDescending(r => r.MemoryBytes).ThenBy(r => r.Pid),
        TopOrder.Time => rows.OrderByDescending(r => r.CpuSeconds).ThenBy(r => r.Pid),
        TopOrder.Pid => rows.OrderBy(r => r.Pid),
        TopOrder.Node => rows.OrderBy(r => r.Where).ThenByDescending(r => r.CpuPercent).ThenBy(r => r.Pid),
        _ => rows.OrderByDescending(r => r.CpuPercent).ThenByDescending(r => r.CpuSeconds).ThenBy(r => r.Pid),
    };

    /// <summary>CPU time as top shows it: minutes:seconds.hundredths.</summary>
    private static string Time(double seconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{(long)seconds / 60}:{seconds % 60:00.00}");

    private static string UserName(int uid) => OpenMosix.Linux.UserDatabase.NameOf((uint)uid);

    private static string Fit(string line, int width) => line.Length <= width ? line : line[..width];
}
