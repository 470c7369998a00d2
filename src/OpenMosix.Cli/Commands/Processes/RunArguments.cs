namespace OpenMosix.Cli.Commands.Processes;

/// <summary>
/// The command line of `om run` and its classic names, before System.CommandLine sees it: everything from the program
/// name on belongs to the program, as with `nice` or `mosrun`, so a `--` is put before it; mosrun's one-letter flags
/// become om run's options; and an option neither knows is refused, where the parser would take it for the program.
/// </summary>
internal static class RunArguments
{
    public const string ClassicUsage = "[-h|-NODE|-jLIST] [-F] [-l|-L|-k] [-c|-i] [-n|-s|-f] COMMAND [ARG...]";

    private static readonly HashSet<string> OptionsWithValue = ["--on", "--among"];
    private static readonly HashSet<string> HelpTokens = ["--help", "-?", "/?", "/h"];

    /// <summary>openMosix mosrun flags that om has no counterpart for: decay tuning (-t, -d) and the rest.</summary>
    private static readonly HashSet<string> UnsupportedClassic = ["-t", "-d", "-e", "-E", "-r", "-R", "-z"];

    /// <param name="args">om's arguments, classic words already in front.</param>
    /// <param name="usageName">The classic name the user called (mosrun, runon, ...), or "run" for `om run`.</param>
    public static string[] ProgramAfterRun(string[] args, string usageName, Command root)
    {
        var run = Array.IndexOf(args, "run");
        if (run < 0 || args.Take(run).Any(a => !a.StartsWith('-'))) return args;
        var known = KnownOptions(root);
        var result = new List<string>(args[..(run + 1)]);
        for (var i = run + 1; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--") return [.. result, .. args[i..]];
            if (OptionsWithValue.Contains(arg) && i + 1 < args.Length)
            {
                // `runon --help` is a request for help, not node "--help".
                if (HelpTokens.Contains(args[i + 1])) return [.. args[..(run + 1)], "--help"];
                result.AddRange([arg, args[++i]]);
                continue;
            }
            if (!arg.StartsWith('-') || arg == "-") return [.. result, "--", .. args[i..]];
            if (known.Contains(arg))
            {
                result.Add(arg);
                continue;
            }
            result.AddRange(ClassicOption(arg, args, ref i, usageName));
        }
        return [.. result];
    }

    /// <summary>mosrun's classic flags: placement -h, -NODE, -j LIST (or -jLIST), -F; lock -L, -l, -k (keep: om run
    /// inherits no lock, so the default, unlocked); hints -c (cpujob), -i (iojob); decay -n (none), -s (slow), -f (fast).</summary>
    private static string[] ClassicOption(string arg, string[] args, ref int i, string usageName) => arg switch
    {
        "-h" => ["--home"],
        "-F" => ["--fallback"],
        "-L" => ["--lock"],
        "-l" => ["--unlock"],
        "-k" => [],
        "-c" => ["--cpujob"],
        "-i" => ["--iojob"],
        "-n" => ["--nodecay"],
        "-s" => ["--slow-decay"],
        "-f" => ["--fast-decay"],
        "-j" when i + 1 < args.Length => ["--among", args[++i]],
        _ when arg.StartsWith("-j", StringComparison.Ordinal) && arg.Length > 2 => ["--among", arg[2..]],
        _ when arg.Length > 1 && arg[1..].All(char.IsAsciiDigit) => ["--on", arg[1..]],
        _ when UnsupportedClassic.Contains(arg) =>
            throw new UsageException($"{usageName}: openMosix's {arg} has no counterpart in om run (usage: {Usage(usageName)})"),
        _ => throw new UsageException($"{usageName}: unknown option {arg} (usage: {Usage(usageName)})"),
    };

    private static string Usage(string usageName) =>
        usageName == "run" ? "om run [OPTIONS] COMMAND [ARG...]; see om run --help" : $"{usageName} {ClassicUsage}";

    /// <summary>Every spelling of run's own options and of the options every command has (help, --debug).</summary>
    private static HashSet<string> KnownOptions(Command root)
    {
        var run = root.Subcommands.Single(c => c.Name == "run");
        var known = run.Options.Concat(root.Options.Where(o => o.Recursive)).SelectMany(o => o.Aliases.Prepend(o.Name)).ToHashSet();
        known.Remove("-h"); // mosrun's -h is "home", as it always was; help is --help
        return known;
    }
}
