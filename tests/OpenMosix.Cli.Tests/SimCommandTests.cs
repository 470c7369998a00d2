using System.Text.Json;
using OpenMosix.Cli.Tests.Support;

namespace OpenMosix.Cli.Tests;

/// <summary>`om sim` as a user runs it: a table or JSON per policy, and a bad spec refused in one line.</summary>
public sealed class SimCommandTests
{
    [Fact]
    public async Task Om_sim_reports_each_policy_and_the_balancer_ends_near_the_ideal()
    {
        var result = await OmCli.RunAsync(["sim", "--nodes", "4", "--jobs", "16,len=120,mem=64,on=1", "--json"]);
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        var reports = json.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("policy").GetString()!, r => r);
        Assert.Equal(["openmosix", "none", "random", "roundrobin"], reports.Keys);
        Assert.InRange(reports["openmosix"].GetProperty("makespanOverIdeal").GetDouble(), 1.0, 1.05);
        Assert.Equal(4.0, reports["none"].GetProperty("makespanOverIdeal").GetDouble(), 3);
    }

    [Fact]
    public async Task A_malformed_job_spec_is_one_line_on_stderr_and_a_non_zero_exit()
    {
        var result = await OmCli.RunAsync(["sim", "--jobs", "10,len=gauss:3"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("om: jobs len: unknown distribution 'gauss' (use a number, uniform:A-B or exp:MEAN)\n", result.Stderr);
    }

    [Fact]
    public async Task Om_sim_runs_a_make_tree_and_reports_its_placements_and_its_ratio_to_the_ideal()
    {
        var result = await OmCli.RunAsync(["sim", "--nodes", "16", "--tree", "make:200,j=16", "--policy", "openmosix", "--json"]);
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        var report = Assert.Single(json.RootElement.EnumerateArray().ToList());
        Assert.Equal(201, report.GetProperty("jobs").GetInt32());
        Assert.True(report.GetProperty("placements").GetInt64() > 0);
        Assert.InRange(report.GetProperty("makespanOverIdeal").GetDouble(), 1.0, 1.5);
    }

    [Fact]
    public async Task Jobs_and_a_tree_together_are_refused_in_one_line()
    {
        var result = await OmCli.RunAsync(["sim", "--jobs", "10", "--tree", "fork:10"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("om: --jobs and --tree exclude each other\n", result.Stderr);
    }
}
