namespace OpenMosix.Cli.Commands.Monitor;

/// <summary>What the bars of mosmon show; the original's keys choose: l, s, m, u.</summary>
internal enum MonitorMode
{
    Load,
    Speed,
    Memory,
    Utilization,
}

/// <summary>Each mode's bar value, scale and labels, taken from a node as omd reports it.</summary>
internal static class MonitorModes
{
    public static string Title(this MonitorMode mode) => mode switch
    {
        MonitorMode.Load => "load",
        MonitorMode.Speed => "speed",
        MonitorMode.Memory => "memory used of total",
        _ => "utilisation",
    };

    public static MonitorMode? FromKey(char key) => char.ToLowerInvariant(key) switch
    {
        'l' => MonitorMode.Load,
        's' => MonitorMode.Speed,
        'm' => MonitorMode.Memory,
        'u' => MonitorMode.Utilization,
        _ => null,
    };

    public static MonitorMode Parse(string word) => word.ToLowerInvariant() switch
    {
        "load" or "l" => MonitorMode.Load,
        "speed" or "s" => MonitorMode.Speed,
        "mem" or "memory" or "m" => MonitorMode.Memory,
        "util" or "utilisation" or "utilization" or "u" => MonitorMode.Utilization,
        _ => throw new UsageException($"unknown mode '{word}': load, speed, mem or util"),
    };

    /// <summary>The height of a node's bar, in the mode's unit.</summary>
    public static double Value(this MonitorMode mode, NodeRow node) => mode switch
    {
        MonitorMode.Load => node.Load,
        MonitorMode.Speed => node.Speed,
        MonitorMode.Memory => Math.Max(0, node.TotalMemory - node.FreeMemory),
        _ => node.Utilization,
    };

    /// <summary>Where a bar is drawn in outline behind the value: a node's total memory.</summary>
    public static double? Outline(this MonitorMode mode, NodeRow node) =>
        mode == MonitorMode.Memory ? node.TotalMemory : null;

    /// <summary>The top of the scale: loads round up to whole numbers (at least 1), utilisation is 0–100 %.</summary>
    public static double Top(this MonitorMode mode, IEnumerable<NodeRow> nodes)
    {
        var known = nodes.ToList();
        return mode switch
        {
            MonitorMode.Load => Math.Max(1, Math.Ceiling(known.Select(n => n.Load).DefaultIfEmpty(0).Max())),
            MonitorMode.Utilization => 1,
            MonitorMode.Memory => Math.Max(1, known.Select(n => (double)n.TotalMemory).DefaultIfEmpty(0).Max()),
            _ => Math.Max(1, known.Select(n => (double)n.Speed).DefaultIfEmpty(0).Max()),
        };
    }

    public static string Label(this MonitorMode mode, double value) => mode switch
    {
        MonitorMode.Load => value.ToString("0.00", CultureInfo.InvariantCulture),
        MonitorMode.Utilization => value.ToString("0%", CultureInfo.InvariantCulture),
        MonitorMode.Memory => Units.Bytes((long)value),
        _ => value.ToString("0", CultureInfo.InvariantCulture),
    };
}
