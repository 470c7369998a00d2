using OpenMosix.Cli.Tests.Support;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// `om lab restart | kill | revive | cut | heal | netem` (and `om lab up`'s bandwidth limit) refuse bad arguments in one line before touching anything:
/// usage errors exit 2, a lab that does not exist exits 1. No lab is made here (the lab tests inject real faults).
/// </summary>
public sealed class LabFaultArgumentTests
{
    private const string NoSuchLab = "nolabhere";

    public static TheoryData<string> NodeVerbs => new("restart", "kill", "revive", "cut", "heal");

    [Theory]
    [InlineData(new[] { "--loss", "101" }, "--loss must be a percentage between 0 and 100, not 101")]
    [InlineData(new[] { "--loss", "-1" }, "--loss must be a percentage between 0 and 100, not -1")]
    [InlineData(new[] { "--delay", "-5" }, "--delay must be between 0 and 60000 ms, not -5")]
    [InlineData(new[] { "--delay", "60001" }, "--delay must be between 0 and 60000 ms, not 60001")]
    [InlineData(new[] { "--clear", "--delay", "10" }, "--clear contradicts --loss and --delay")]
    [InlineData(new[] { "--clear", "--loss", "1" }, "--clear contradicts --loss and --delay")]
    [InlineData(new string[0], "give --loss P, --delay MS (or both), or --clear")]
    [InlineData(new[] { "--clear", "--jitter", "1" }, "--clear contradicts --jitter")]
    [InlineData(new[] { "--loss", "1", "--jitter", "3" }, "--jitter needs --delay")]
    [InlineData(new[] { "--delay", "5", "--jitter", "8" }, "--jitter must be between 0 and the delay (5 ms), not 8")]
    [InlineData(new[] { "--delay", "5", "--jitter", "-1" }, "--jitter must be between 0 and the delay (5 ms), not -1")]
    public async Task Netem_refuses_bad_values_in_one_line_before_looking_for_the_lab(string[] options, string message)
    {
        var result = await OmCli.RunAsync(["lab", "netem", "--name", NoSuchLab, "2", .. options]);
        Assert.Equal((2, $"om: {message}\n"), (result.ExitCode, result.Stderr));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1000001")]
    public async Task Lab_up_refuses_a_bandwidth_limit_out_of_range_in_one_line_before_building_anything(string limit)
    {
        var result = await OmCli.RunAsync(["lab", "up", "--name", NoSuchLab, "-n", "2", "--bandwidth-limit", limit]);
        Assert.Equal((2, $"om: --bandwidth-limit {limit}: 0 (no limit) to 1000000 MiB/s\n"), (result.ExitCode, result.Stderr));
    }

    [Theory]
    [MemberData(nameof(NodeVerbs))]
    public async Task A_node_number_below_one_is_a_usage_error(string verb)
    {
        var result = await OmCli.RunAsync(["lab", verb, "--name", NoSuchLab, "0"]);
        Assert.Equal((2, "om: NODE must be a node number (1 or more), not 0\n"), (result.ExitCode, result.Stderr));
    }

    [Theory]
    [MemberData(nameof(NodeVerbs))]
    public async Task A_node_that_is_not_a_number_is_a_usage_error(string verb)
    {
        var result = await OmCli.RunAsync(["lab", verb, "--name", NoSuchLab, "two"]);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("om: Cannot parse argument 'two'", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(NodeVerbs))]
    [InlineData("netem --clear")]
    public async Task A_lab_that_does_not_exist_is_named_in_one_line(string verb)
    {
        var words = verb.Split(' ');
        var result = await OmCli.RunAsync(["lab", words[0], "--name", NoSuchLab, "1", .. words[1..]]);
        Assert.Equal((1, $"om: no lab named {NoSuchLab} (no /run/omlab/{NoSuchLab}/state.json); `om lab up` creates one\n"),
            (result.ExitCode, result.Stderr));
    }

    [Theory]
    [InlineData("restart")]
    [InlineData("revive")]
    public async Task The_wait_for_the_new_omd_must_be_a_sensible_timeout(string verb)
    {
        var result = await OmCli.RunAsync(["lab", verb, "--name", NoSuchLab, "1", "--timeout", "0"]);
        Assert.Equal((2, "om: --timeout must be between 0 and 3600 seconds, not 0\n"), (result.ExitCode, result.Stderr));
    }

    [Fact]
    public async Task A_bad_lab_name_is_refused_in_one_line()
    {
        var result = await OmCli.RunAsync(["lab", "kill", "--name", "Bad_Name", "1"]);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("om: lab name 'Bad_Name' is not valid", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("restart", "SIGTERM")]
    [InlineData("kill", "as if it lost power")]
    [InlineData("revive", "empty")]
    [InlineData("cut", "processes run on")]
    [InlineData("heal", "reconnected")]
    [InlineData("netem", "tc netem")]
    public async Task Every_fault_explains_itself_in_its_help(string verb, string phrase)
    {
        var result = await OmCli.RunAsync(["lab", verb, "--help"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains(phrase, result.Stdout.Split("Usage:")[0], StringComparison.Ordinal);
    }
}
