using System.Globalization;
using OpenMosix.Admin;

namespace OpenMosix.Cli.Commands.Processes;

internal static class PsCommand
{
    public static Command Create()
    {
        return ResultCommand.Create("ps",
            "List the processes openMosix manages on this node: home processes (wherever they run now) and guests " +
            "running here for other nodes. Also run as `mps`.",
            [], AdminJsonContext.Default.ProcessList, _ => AdminCall.Run(c => c.ProcessesAsync()), Print);
    }

    private static void Print(ProcessList list)
    {
        var table = new TextTable("PID", "USER", "HOME", "WHERE", "STATE", "NMIGS", "LOCK", "CPU", "MEM", "CANTMOVE", "COMMAND");
        foreach (var p in list.Processes)
            table.Add(
                p.Pid.ToString(CultureInfo.InvariantCulture),
                UserName(p.Uid),
                p.Home.ToString(CultureInfo.InvariantCulture),
                p.Where.ToString(CultureInfo.InvariantCulture),
                p.State,
                p.Migrations.ToString(CultureInfo.InvariantCulture),
                p.Locked ? "yes" : "no",
                p.CpuSeconds.ToString("0.0", CultureInfo.InvariantCulture),
                p.MemoryBytes > 0 ? Units.Bytes(p.MemoryBytes) : "-",
                p.CantMove.Count == 0 ? "-" : string.Join("; ", p.CantMove),
                p.Command);
        Console.Write(table.ToString());
    }

    private static string UserName(int uid)
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var fields = line.Split(':');
            if (fields.Length > 2 && fields[2] == uid.ToString(CultureInfo.InvariantCulture)) return fields[0];
        }
        return uid.ToString(CultureInfo.InvariantCulture);
    }
}
