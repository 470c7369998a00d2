namespace OpenMosix.Cli.Commands.Processes;

/// <summary>om kill: a signal for a managed process of this node wherever it runs, including one a process of this node
/// forked on the node it runs on (listed by `om ps` with its node), which kill(1) here cannot reach.</summary>
internal static class KillCommand
{
    public static Command Create()
    {
        var pid = new Argument<int>("PID") { Description = "A process listed by `om ps` on this node (yours, or any as root)." };
        var signal = new Option<string>("--signal", "-s")
        {
            Description = "The signal: a number (1-64) or a name (TERM, SIGKILL, ...).",
            DefaultValueFactory = _ => "TERM",
        };
        return ResultCommand.Create("kill",
            "Send a signal to a managed process of this node wherever it runs: one away gets it through its deputy, one " +
            "that a process of this node forked on another node (remote fork) through the link of the process that forked it.",
            [pid, signal], AdminJsonContext.Default.ProcessRow,
            parse =>
            {
                var number = SignalNumber(parse.GetValue(signal)!);
                return AdminCall.Run(c => c.SignalAsync(Pids.Check(parse.GetValue(pid)), number));
            },
            row => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"signalled {row.Pid} on node {row.Where}: {row.Command}")));
    }

    private static readonly string[] Names =
    [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
        "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];

    /// <summary>A signal's number from its number or name (with or without SIG), as kill(1) takes it.</summary>
    public static int SignalNumber(string text)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            return number is >= 1 and <= 64 ? number : throw new UsageException($"{text} is not a signal (1-64)");
        var name = text.ToUpperInvariant();
        if (name.StartsWith("SIG", StringComparison.Ordinal)) name = name[3..];
        var index = Array.IndexOf(Names, name);
        return index >= 0 ? index + 1 : throw new UsageException($"'{text}' is not a signal name (TERM, KILL, INT, HUP, USR1, ...)");
    }
}
