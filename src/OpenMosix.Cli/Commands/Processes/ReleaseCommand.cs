using System.Globalization;
using OpenMosix.Admin;

namespace OpenMosix.Cli.Commands.Processes;

internal static class ReleaseCommand
{
    public static Command Create()
    {
        var pid = new Argument<int>("PID") { Description = "A managed process of this node (yours, or any as root)." };
        return ResultCommand.Create("release",
            "Give a managed process back: openMosix no longer balances or moves it. One running on another node is " +
            "brought home first; it keeps running, untraced.",
            [pid], AdminJsonContext.Default.ProcessRow,
            parse => AdminCall.Run(c => c.ReleaseAsync(Pids.Check(parse.GetValue(pid)))),
            row => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"released {row.Pid}: {row.Command}")));
    }
}
