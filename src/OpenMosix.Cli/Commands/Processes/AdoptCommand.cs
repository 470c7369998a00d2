using System.Globalization;
using OpenMosix.Admin;

namespace OpenMosix.Cli.Commands.Processes;

internal static class AdoptCommand
{
    public static Command Create()
    {
        var pid = new Argument<int>("PID") { Description = "A running process of this node (yours, or any as root)." };
        var tree = new Option<bool>("--tree") { Description = "Its descendants too (those not managed yet)." };
        return ResultCommand.Create("adopt",
            "Hand a running process to openMosix without moving it now: it is managed from here on, as if started with " +
            "`om run` (balanced, movable with `migrate`, its future children managed too). Never a kernel thread, omd, a " +
            "traced process or one of another namespace. `om release` gives it back.",
            [pid, tree], AdminJsonContext.Default.ProcessList,
            parse => AdminCall.Run(c => c.AdoptAsync(Pids.Check(parse.GetValue(pid)), parse.GetValue(tree))),
            list =>
            {
                foreach (var row in list.Processes)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"adopted {row.Pid}: {row.Command}"));
            });
    }
}
