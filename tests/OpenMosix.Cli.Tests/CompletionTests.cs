using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// Shell completion: the scripts of `om completion` ask `om complete` for every suggestion, which reads the command
/// tree itself, so what they offer is what om accepts.
/// </summary>
public sealed class CompletionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void After_om_every_command_is_suggested()
    {
        Assert.Equal(OmCommandTree.Children().Order(StringComparer.Ordinal), Suggest("om", ""));
    }

    [Fact]
    public void After_om_migrate_a_dash_dash_word_gets_its_options()
    {
        Assert.Equal(["--debug", "--help", "--json", "--no-precopy", "--postcopy", "--tree"], Suggest("om", "migrate", "--"));
    }

    [Fact]
    public void A_classic_name_completes_as_the_command_it_stands_for()
    {
        Assert.Equal(["getdecay", "getfree", "getlink", "getload", "getmem", "getspeed", "gettune", "getutil"], Suggest("mosctl", "get"));
        Assert.Contains("--cpujob", Suggest("runhome", "--"));
    }

    [Fact]
    public void An_option_that_waits_for_a_value_gets_its_values()
    {
        Assert.Equal(["all", "none", "openmosix", "random", "roundrobin"], Suggest("om", "sim", "--policy", ""));
    }

    [Fact]
    public void Nothing_is_suggested_among_the_arguments_of_the_program_om_run_starts()
    {
        Assert.Empty(Suggest("om", "run", "--on", "2", "python3", "--"));
        Assert.Empty(Suggest("mosrun", "-2", "python3", ""));
    }

    [Fact]
    public void The_bash_script_is_valid_bash_and_completes_through_om()
    {
        var script = Script("bash");
        Assert.Equal(0, CommandRun.Run("bash", ["-n", script]).ExitCode);

        // COMP_WORDS as bash gives them for `om migrate --no<TAB>`; the script asks the om under test, named by its path.
        var run = CommandRun.Run("bash", ["-c", $"source {script}; COMP_WORDS=({TestPaths.Om} migrate --no); COMP_CWORD=2; " +
                                                "_om_complete; printf '%s\\n' \"${COMPREPLY[@]}\""]);

        Assert.Equal((0, "--no-precopy\n"), (run.ExitCode, run.Stdout));
    }

    [Theory]
    [InlineData("zsh")]
    [InlineData("fish")]
    public void The_zsh_and_fish_scripts_are_valid_for_their_shell(string shell)
    {
        Assert.SkipUnless(File.Exists($"/usr/bin/{shell}"), $"{shell} is not installed, so its script cannot be checked (apt-get install {shell})");

        var check = CommandRun.Run(shell, ["-n", Script(shell)]);

        Assert.True(check.ExitCode == 0, check.ToString());
    }

    [Fact]
    public void Every_script_completes_om_and_every_classic_name()
    {
        foreach (var shell in new[] { "bash", "zsh", "fish" })
        {
            var script = File.ReadAllText(Script(shell));
            Assert.All(OmCommandTree.ClassicNames().Keys.Prepend("om"), name => Assert.Matches($@"[ ]{name}( |\n)", script));
        }
    }

    [Fact]
    public void An_unknown_shell_is_refused_in_one_line()
    {
        var run = CommandRun.Run(TestPaths.Om, ["completion", "tcsh"]);
        Assert.Equal((2, "om: no completion for shell 'tcsh': bash, zsh or fish\nom: see `om --help`\n"), (run.ExitCode, run.Stderr));
    }

    private static string[] Suggest(params string[] words)
    {
        var run = CommandRun.Run(TestPaths.Om, ["complete", "--", .. words]);
        Assert.True(run.ExitCode == 0 && run.Stderr.Length == 0, run.ToString());
        return run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private string Script(string shell)
    {
        var run = CommandRun.Run(TestPaths.Om, ["completion", shell]);
        Assert.True(run.ExitCode == 0, run.ToString());
        var path = _dir.File($"om.{shell}");
        File.WriteAllText(path, run.Stdout);
        return path;
    }
}
