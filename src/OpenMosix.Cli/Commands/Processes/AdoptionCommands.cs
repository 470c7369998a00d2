namespace OpenMosix.Cli.Commands.Processes;

/// <summary>om adopt and om release: a running process handed to openMosix, and given back.</summary>
internal static class AdoptionCommands
{
    public static Command Adopt()
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
                foreach (var row in list.Processes) Say("adopted", row);
            });
    }

    public static Command Release()
    {
        var pid = new Argument<int>("PID") { Description = "A managed process of this node (yours, or any as root)." };
        return ResultCommand.Create("release",
            "Give a managed process back: openMosix no longer balances or moves it. One running on another node is " +
            "brought home first; it keeps running, untraced.",
            [pid], AdminJsonContext.Default.ProcessRow,
            parse => AdminCall.Run(c => c.ReleaseAsync(Pids.Check(parse.GetValue(pid)))),
            row => Say("released", row));
    }

    private static void Say(string what, ProcessRow row) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what} {row.Pid}: {row.Command}"));
}
