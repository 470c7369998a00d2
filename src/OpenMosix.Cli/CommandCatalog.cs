using System.CommandLine.Help;
using OpenMosix.Cli.Commands;
using OpenMosix.Cli.Commands.Cluster;
using OpenMosix.Cli.Commands.Completion;
using OpenMosix.Cli.Commands.Processes;
using OpenMosix.Cli.Commands.Lab;
using OpenMosix.Cli.Commands.Monitor;

namespace OpenMosix.Cli;

/// <summary>Every `om` subcommand, and the classic openMosix program names that select one through argv[0].</summary>
internal static class CommandCatalog
{
    /// <summary>
    /// Classic name → the words of `om` it stands for (a `mosrun` link runs `om run`). A name is listed only once its
    /// command exists; packaging/install.sh links every one of them and docs/cli.md lists them.
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
        ["cpujob"] = ["run", "--cpujob"],
        ["iojob"] = ["run", "--iojob"],
        ["nodecay"] = ["run", "--nodecay"],
        ["slowdecay"] = ["run", "--slow-decay"],
        ["fastdecay"] = ["run", "--fast-decay"],
        ["migrate"] = ["migrate"],
        ["mps"] = ["ps"],
        ["mosmon"] = ["mon"],
        ["mtop"] = ["top"],
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
            GuestKeeperCommand.Create(),
            StatusCommand.Create(),
            DashboardCommand.Create(),
            MonCommand.Create(),
            TopCommand.Create(),
            MosctlCommand.Create(),
            SetpeCommand.Create(),
            ShowmapCommand.Create(),
            KeygenCommand.Create(),
            KeyCommand.Create(),
            CaCommand.Create(),
            DiscoverCommand.Create(),
            RunCommand.Create(),
            MigrateCommand.Create(),
            AdoptionCommands.Adopt(),
            AdoptionCommands.Release(),
            KillCommand.Create(),
            PsCommand.Create(),
            WhereCommand.Create(),
            LabCommand.Create(),
            SimCommand.Create(),
            CompletionCommand.Create(),
            CompleteCommand.Create(),
            ClassicNamesCommand.Create(),
        };
        root.Add(GlobalOptions.Debug);
        return root;
    }

    /// <summary>The `om` words a classic name stands for, without its options: "run" for runhome, "mosctl" for mosctl.</summary>
    public static string? CommandWordsOf(string invokedAs) =>
        ClassicNames.TryGetValue(invokedAs, out var words) ? string.Join(' ', words.TakeWhile(w => !w.StartsWith('-'))) : null;

    /// <summary>The arguments as `om` sees them: a classic name's subcommand words go in front.</summary>
    public static string[] ArgumentsFor(string invokedAs, string[] args, Command root) =>
        RunArguments.ProgramAfterRun(ClassicNames.TryGetValue(invokedAs, out var words) ? [.. words, .. args] : args,
            ClassicNames.ContainsKey(invokedAs) ? invokedAs : "run", root);

    public static IReadOnlyCollection<string> ClassicProgramNames => ClassicNames.Keys;

    /// <summary>All the `om` words a classic name stands for, options included ("run --home" for runhome); none for om.</summary>
    public static IReadOnlyList<string> ClassicWords(string invokedAs) => ClassicNames.GetValueOrDefault(invokedAs) ?? [];
}
