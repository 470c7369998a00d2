using OpenMosix.Linux;

namespace OpenMosix.Cli.Commands.Processes;

internal static class PsCommand
{
    public static Command Create()
    {
        var tree = new Option<bool>("--tree", "-f")
        {
            Description = "Show each managed child under the managed process that forked it, its command indented (as ps f).",
        };
        var all = new Option<bool>("--all", "-a")
        {
            Description = "Also list the processes openMosix does not manage (STATE and ORIGIN unmanaged), read from /proc here.",
        };
        var asTree = false;
        return ResultCommand.Create("ps",
            "List the processes openMosix manages on this node: home processes (wherever they run now), with the managed " +
            "process that forked each (PPID; 0 for one started with om run), how each came to be managed (ORIGIN: run, " +
            "child, adopted; guest for those running here for other nodes). " +
            "Also run as `mps`.",
            [tree, all], AdminJsonContext.Default.ProcessList, parse =>
            {
                asTree = parse.GetValue(tree);
                var list = AdminCall.Run(c => c.ProcessesAsync());
                return parse.GetValue(all) ? UnmanagedRows.With(list) : list;
            }, list => Print(list, asTree));
    }

    private static void Print(ProcessList list, bool asTree)
    {
        var table = new TextTable("PID", "PPID", "USER", "HOME", "WHERE", "STATE", "ORIGIN", "NMIGS", "LOCK", "%CPU", "CPU", "MEM", "CANTMOVE", "COMMAND");
        var rows = asTree ? ProcessTreeOrder.Order(list.Processes) : [.. list.Processes.Select(p => (p, 0))];
        foreach (var (p, depth) in rows)
            table.Add(
                p.Pid.ToString(CultureInfo.InvariantCulture),
                p.ParentPid.ToString(CultureInfo.InvariantCulture),
                UserDatabase.NameOf((uint)p.Uid),
                p.Home.ToString(CultureInfo.InvariantCulture),
                p.Where.ToString(CultureInfo.InvariantCulture),
                p.State,
                p.Origin.Length == 0 ? "-" : p.Origin,
                p.Migrations.ToString(CultureInfo.InvariantCulture),
                p.Locked ? "yes" : "no",
                p.CpuPercent.ToString("0.0", CultureInfo.InvariantCulture),
                p.CpuSeconds.ToString("0.0", CultureInfo.InvariantCulture),
                p.MemoryBytes > 0 ? Units.Bytes(p.MemoryBytes) : "-",
                p.CantMove.Count == 0 ? "-" : string.Join("; ", p.CantMove),
                depth == 0 ? p.Command : new string(' ', 2 * depth - 2) + "\\_ " + p.Command);
        Console.Write(table.ToString());
    }
}
