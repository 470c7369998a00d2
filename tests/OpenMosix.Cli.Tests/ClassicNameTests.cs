using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// The classic openMosix program names, as a user meets them through the links packaging/install.sh makes: each
/// speaks under its own name, takes its classic flags, and refuses what it does not know before running anything.
/// None of these command lines reaches a daemon (OM_SOCKET names a socket nobody listens on).
/// </summary>
public sealed class ClassicNameTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> InstalledNames() => [.. InstallScriptNames()];

    [Theory]
    [MemberData(nameof(InstalledNames))]
    public void Every_installed_classic_name_shows_its_own_name_in_its_usage_line(string name)
    {
        var help = Run(name, "--help");

        Assert.True(help.ExitCode == 0, help.ToString());
        var usage = help.Stdout.Split("Usage:\n")[1].Split('\n')[0];
        Assert.StartsWith($"  {name} ", usage + " ", StringComparison.Ordinal);
    }

    [Fact]
    public void Docs_list_every_installed_classic_name()
    {
        var doc = File.ReadAllText(Path.Join(TestPrograms.RepositoryRoot, "docs", "cli.md"));
        Assert.All(InstallScriptNames(), name => Assert.Contains($"`{name}`", doc, StringComparison.Ordinal));
    }

    [Fact]
    public void A_subcommand_through_a_classic_name_shows_that_name_too()
    {
        var help = Run("mosctl", "getload", "--help");
        Assert.Contains("Usage:\n  mosctl getload [<NODE>]", help.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Runon_help_prints_help_instead_of_reading_it_as_a_node()
    {
        var help = Run("runon", "--help");

        Assert.Equal((0, ""), (help.ExitCode, help.Stderr));
        Assert.Contains("Usage:\n  runon ", help.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-x", "unknown option -x")]
    [InlineData("--frobnicate", "unknown option --frobnicate")]
    [InlineData("-kx", "unknown option -kx")]
    [InlineData("-z", "openMosix's -z has no counterpart in om run")]
    [InlineData("-t", "openMosix's -t has no counterpart in om run")]
    [InlineData("-d", "openMosix's -d has no counterpart in om run")]
    public void Mosrun_refuses_an_option_it_cannot_honour_in_one_line_instead_of_running_it(string option, string reason)
    {
        var run = Run("mosrun", option, "true");
        Assert.Equal((2, $"om: mosrun: {reason} (usage: mosrun {Usage})\n"), (run.ExitCode, run.Stderr));
    }

    [Fact]
    public void Om_run_refuses_an_unknown_option_too()
    {
        var run = CommandRun.Run(TestPaths.Om, ["run", "--frobnicate", "true"], NoDaemon);
        Assert.Equal((2, "om: run: unknown option --frobnicate (usage: om run [OPTIONS] COMMAND [ARG...]; see om run --help)\n"),
            (run.ExitCode, run.Stderr));
    }

    [Theory]
    [InlineData("-k")]
    [InlineData("-j2-3")]
    [InlineData("-j", "2-3")]
    [InlineData("-L", "-F", "-2")]
    public void Mosrun_takes_its_classic_flags_as_flags_not_as_the_program(params string[] flags)
    {
        // Taken for the program, "-k" would fail as "command not found"; as a flag, om goes on to ask omd.
        var run = Run("mosrun", [.. flags, "true"]);
        Assert.Equal((1, $"om: omd is not running (nothing listens on {_dir.File("none.sock")})\n"), (run.ExitCode, run.Stderr));
    }

    [Theory]
    [InlineData("cpujob", "-i", "--cpujob and --iojob contradict each other")]
    [InlineData("iojob", "-c", "--cpujob and --iojob contradict each other")]
    [InlineData("nodecay", "-s", "--slow-decay and --nodecay contradict each other")]
    [InlineData("slowdecay", "-f", "--slow-decay and --fast-decay contradict each other")]
    [InlineData("fastdecay", "-n", "--fast-decay and --nodecay contradict each other")]
    public void The_hint_names_run_a_program_with_their_hint(string name, string otherFlag, string contradiction)
    {
        var run = Run(name, otherFlag, "true");
        Assert.Equal((2, $"om: {contradiction}\n"), (run.ExitCode, run.Stderr));
    }

    [Theory]
    [InlineData("mosmon")]
    [InlineData("mosmon", "--mode", "mem")]
    [InlineData("mtop")]
    [InlineData("mtop", "-d", "5")]
    public void Mosmon_and_mtop_without_a_terminal_say_to_use_once_or_json_in_one_line_and_exit_2(params string[] words)
    {
        // CommandRun gives them pipes, not a terminal: the full screen cannot be drawn there.
        var run = Run(words[0], words[1..]);
        Assert.Equal((2, $"om: {words[0]} draws on a terminal; for scripts use --once or --json\n"), (run.ExitCode, run.Stderr));
    }

    [Fact]
    public void Mosmon_refuses_an_unknown_mode_and_a_silly_interval_in_one_line()
    {
        Assert.Equal((2, "om: unknown mode 'cpu': load, speed, mem or util\n"), (Run("mosmon", "--mode", "cpu") is var a ? (a.ExitCode, a.Stderr) : default));
        Assert.Equal((2, "om: --interval 0: give 0.1 to 3600 seconds\n"), (Run("mosmon", "-i", "0") is var b ? (b.ExitCode, b.Stderr) : default));
    }

    private const string Usage = "[-h|-NODE|-jLIST] [-F] [-l|-L|-k] [-c|-i] [-n|-s|-f] COMMAND [ARG...]";

    private Dictionary<string, string> NoDaemon => new() { ["OM_SOCKET"] = _dir.File("none.sock") };

    private CommandResult Run(string name, params string[] arguments)
    {
        var link = _dir.File(name);
        if (!File.Exists(link)) File.CreateSymbolicLink(link, TestPaths.Om);
        return CommandRun.Run(link, arguments, NoDaemon);
    }

    /// <summary>The names packaging/install.sh links to om: those om itself lists (PackagingTests checks the links).</summary>
    private static IEnumerable<string> InstallScriptNames() => OmCommandTree.ClassicNames().Keys;
}
