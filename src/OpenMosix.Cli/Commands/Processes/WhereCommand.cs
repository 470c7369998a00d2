namespace OpenMosix.Cli.Commands.Processes;

internal static class WhereCommand
{
    public static Command Create()
    {
        var pid = new Argument<int>("PID") { Description = "A managed process of this node." };
        return ResultCommand.Create("where",
            "Print the node a managed process runs on now; --json prints its whole row, as in `om ps --json`.",
            [pid], AdminJsonContext.Default.ProcessRow,
            parse => AdminCall.Run(c => c.ProcessAsync(Pids.Check(parse.GetValue(pid)))),
            row => Console.WriteLine(row.Where.ToString(CultureInfo.InvariantCulture)));
    }
}
