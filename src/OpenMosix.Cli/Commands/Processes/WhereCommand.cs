using System.Globalization;
using OpenMosix.Admin;

namespace OpenMosix.Cli.Commands.Processes;

internal static class WhereCommand
{
    public static Command Create()
    {
        var pid = new Argument<int>("PID") { Description = "A managed process of this node." };
        var json = GlobalOptions.Json();
        var command = new Command("where",
            "Print the node a managed process runs on now; --json prints its whole row, as in `om ps --json`.") { pid, json };
        command.SetAction(parse =>
        {
            using var omd = new AdminClient();
            var row = omd.ProcessAsync(Pids.Check(parse.GetValue(pid))).GetAwaiter().GetResult();
            JsonOutput.Print(parse, json, row, AdminJsonContext.Default.ProcessRow,
                () => Console.WriteLine(row.Where.ToString(CultureInfo.InvariantCulture)));
            return 0;
        });
        return command;
    }
}
