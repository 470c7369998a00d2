using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// mosctl setdecay and the mosrun hints refuse bad arguments in one line with the usage exit status (2), before
/// omd is asked anything: none of these command lines reaches a daemon.
/// </summary>
public sealed class BalancingArgumentTests
{
    [Theory]
    [InlineData(new[] { "0", "4" }, "the slow half-life must be between 0.1 s and 86400 s (got 0 s)")]
    [InlineData(new[] { "-1", "4" }, "the slow half-life must be between 0.1 s and 86400 s (got -1 s)")]
    [InlineData(new[] { "60", "0.01" }, "the fast half-life must be between 0.1 s and 86400 s (got 0.01 s)")]
    [InlineData(new[] { "1000000", "4" }, "the slow half-life must be between 0.1 s and 86400 s (got 1000000 s)")]
    [InlineData(new[] { "sixty", "4" }, "'sixty' is not a number of seconds")]
    [InlineData(new[] { "60", "4s" }, "'4s' is not a number of seconds")]
    [InlineData(new[] { "4", "60" }, "the fast half-life (60 s) must not be longer than the slow one (4 s)")]
    public async Task Setdecay_refuses_a_bad_half_life_in_one_line(string[] values, string message)
    {
        var result = await OmCli.RunAsync(["mosctl", "setdecay", .. values]);
        Assert.Equal((2, $"om: {message}\n"), (result.ExitCode, result.Stderr));
    }

    [Fact]
    public async Task Setdecay_needs_both_half_lives()
    {
        var result = await OmCli.RunAsync(["mosctl", "setdecay", "60"]);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("om: Required argument 'FAST' missing", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--cpujob", "--iojob" }, "--cpujob and --iojob contradict each other")]
    [InlineData(new[] { "--slow-decay", "--fast-decay" }, "--slow-decay and --fast-decay contradict each other")]
    [InlineData(new[] { "--fast-decay", "--nodecay" }, "--fast-decay and --nodecay contradict each other")]
    [InlineData(new[] { "-c", "-i" }, "--cpujob and --iojob contradict each other")]
    [InlineData(new[] { "-n", "-s" }, "--slow-decay and --nodecay contradict each other")]
    [InlineData(new[] { "-f", "-s", "-c" }, "--slow-decay and --fast-decay contradict each other")]
    public async Task Run_refuses_contradicting_hints_in_one_line(string[] flags, string message)
    {
        var result = await OmCli.RunAsync(["run", .. flags, "true"]);
        Assert.Equal((2, $"om: {message}\n"), (result.ExitCode, result.Stderr));
    }

    [Fact]
    public void Mosrun_takes_the_classic_hint_and_decay_flags()
    {
        using var dir = new TempDirectory();
        var mosrun = dir.File("mosrun");
        File.CreateSymbolicLink(mosrun, TestPaths.Om);
        var hints = CommandRun.Run(mosrun, ["-c", "-i", "true"]);
        var decay = CommandRun.Run(mosrun, ["-s", "-n", "true"]);
        Assert.Equal((2, "om: --cpujob and --iojob contradict each other\n"), (hints.ExitCode, hints.Stderr));
        Assert.Equal((2, "om: --slow-decay and --nodecay contradict each other\n"), (decay.ExitCode, decay.Stderr));
    }

    [Fact]
    public void A_classic_flag_after_the_program_belongs_to_the_program()
    {
        using var dir = new TempDirectory();
        var mosrun = dir.File("mosrun");
        File.CreateSymbolicLink(mosrun, TestPaths.Om);
        // "-c" after the program name is the program's; om itself only sees --iojob, and then needs omd.
        var run = CommandRun.Run(mosrun, ["-i", "true", "-c"], new Dictionary<string, string> { ["OM_SOCKET"] = dir.File("none.sock") });
        Assert.Equal((1, $"om: omd is not running (nothing listens on {dir.File("none.sock")})\n"), (run.ExitCode, run.Stderr));
    }

    [Theory]
    [InlineData("gettune", "balancer tunable")]
    [InlineData("getdecay", "half-lives")]
    [InlineData("setdecay", "(root only)")]
    public async Task Every_new_mosctl_verb_explains_itself_in_its_help(string verb, string phrase)
    {
        var result = await OmCli.RunAsync(["mosctl", verb, "--help"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains(phrase, result.Stdout.Split("Usage:")[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_help_lists_the_hints_with_their_classic_flags()
    {
        var result = await OmCli.RunAsync(["run", "--help"]);
        foreach (var line in new[] { "--cpujob", "--iojob", "--nodecay", "--slow-decay", "--fast-decay" })
            Assert.Contains(line, result.Stdout, StringComparison.Ordinal);
        Assert.Contains("-h -NODE -j -F -L -l -c -i -n -s -f", result.Stdout.ReplaceLineEndings(" "), StringComparison.Ordinal);
    }
}
