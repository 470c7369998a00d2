using System.CommandLine;
using System.CommandLine.Help;
using OpenMosix.Cli.Commands;
using OpenMosix.Cli.Commands.Cluster;
using OpenMosix.Cli.Commands.Processes;
using OpenMosix.Cli.Commands.Lab;
using OpenMosix.Cli.Infrastructure;

namespace OpenMosix.Cli;

/// <summary>Every `om` subcommand, and the classic openMosix program names that select one through argv[0].</summary>
internal static class CommandCatalog
{
    /// <summary>
    /// Classic name → the words of `om` it stands for (a `mosrun` link runs `om run`). A name is listed only once its
    /// command exists (mosrun, migrate, mosmon, mps and mtop arrive with migration).
    /// </summary>
    private static readonly Dictionary<string, string[]> ClassicNames = new(StringComparer.Ordinal)
    {
        ["omd"] = ["daemon"],
        ["mosctl"] = ["mosctl"],
        ["setpe"] = ["setpe"],
        ["showmap"] = ["showmap"],
        ["omdiscd"] = ["discover"],
        ["mosrun"] = ["run"],
        ["runhome"] = ["run", "--home"],
        ["runon"] = ["run", "--on"],
        ["nomig"] = ["run", "--lock"],
        ["migrate"] = ["migrate"],
        ["mps"] = ["ps"],
    };

    /// <summary>
    /// The command tree. Its root is named "om" whatever name started us: a RootCommand would take argv[0], and
    /// through a link called mosctl its name would collide with the mosctl subcommand.
    /// </summary>
    public static Command Build()
    {
        var root = new Command("om", "openMosix.NET: one cluster out of many Linux machines; `om COMMAND --help` tells more.")
        {
            new HelpOption { Recursive = true },
            new VersionOption(),
            CheckpointCommand.Create(),
            RestoreCommand.Create(),
            CantMoveCommand.Create(),
            ImageCommand.Create(),
            DaemonCommand.Create(),
            StatusCommand.Create(),
            MosctlCommand.Create(),
            SetpeCommand.Create(),
            ShowmapCommand.Create(),
            KeygenCommand.Create(),
            DiscoverCommand.Create(),
            RunCommand.Create(),
            MigrateCommand.Create(),
            PsCommand.Create(),
            WhereCommand.Create(),
            LabCommand.Create(),
            SimCommand.Create(),
        };
        root.Add(GlobalOptions.Debug);
        return root;
    }

    /// <summary>The arguments as `om` sees them: a classic name's subcommand words go in front.</summary>
    public static string[] ArgumentsFor(string invokedAs, string[] args) =>
        ProgramAfterRun(ClassicNames.TryGetValue(invokedAs, out var words) ? [.. words, .. args] : args);

    /// <summary>
    /// `om run ls -l`: everything from the program name on belongs to the program, not to om, as with `nice` or
    /// `mosrun`; a `--` is put before it unless the user wrote one.
    /// </summary>
    private static string[] ProgramAfterRun(string[] args)
    {
        var run = Array.IndexOf(args, "run");
        if (run < 0 || args.Take(run).Any(a => !a.StartsWith('-'))) return args;
        var result = new List<string>(args[..(run + 1)]);
        for (var i = run + 1; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--") return [.. result, .. args[i..]];
            if (RunOptionsWithValue.Contains(arg) && i + 1 < args.Length)
            {
                result.AddRange([arg, args[++i]]);
                continue;
            }
            if (!arg.StartsWith('-')) return [.. result, "--", .. args[i..]];
            result.AddRange(ClassicRunOption(arg, args, ref i));
        }
        return [.. result];
    }

    private static readonly HashSet<string> RunOptionsWithValue = ["--on", "--among"];

    /// <summary>mosrun's classic flags: placement -h, -NODE, -j LIST, -F, -L, -l; hints -c (cpujob), -i (iojob);
    /// decay -n (none), -s (slow), -f (fast).</summary>
    private static string[] ClassicRunOption(string arg, string[] args, ref int i) => arg switch
    {
        "-h" => ["--home"],
        "-F" => ["--fallback"],
        "-L" => ["--lock"],
        "-l" => ["--unlock"],
        "-c" => ["--cpujob"],
        "-i" => ["--iojob"],
        "-n" => ["--nodecay"],
        "-s" => ["--slow-decay"],
        "-f" => ["--fast-decay"],
        "-j" when i + 1 < args.Length => ["--among", args[++i]],
        _ when arg.Length > 1 && arg[1..].All(char.IsAsciiDigit) => ["--on", arg[1..]],
        _ => [arg],
    };

    public static IReadOnlyCollection<string> ClassicProgramNames => ClassicNames.Keys;
}
