using System.Text.Json;
using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>`om checkpoint --json` prints what it did as data on stdout, like the other commands' --json.</summary>
public sealed class CheckpointJsonTests
{
    [Fact]
    public async Task Checkpoint_json_describes_the_image_it_wrote()
    {
        using var dir = new TempDirectory();
        using var sleeper = ChildProcess.Start(TestPaths.Installed("sleep"), ["60"]);
        var image = dir.File("sleep.omimg");

        var run = await OmCli.RunAsync(["checkpoint", $"{sleeper.Pid}", "-o", image, "--json"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var done = json.RootElement;
        Assert.Equal(sleeper.Pid, done.GetProperty("pid").GetInt32());
        Assert.Equal(image, done.GetProperty("output").GetString());
        Assert.True(done.GetProperty("regions").GetInt32() > 0);
        Assert.True(done.GetProperty("descriptors").GetInt32() >= 0);
        Assert.True(done.GetProperty("pageBytes").GetUInt64() > 0);
        Assert.True(done.GetProperty("frozenMs").GetDouble() > 0);
        Assert.False(done.GetProperty("killed").GetBoolean());
        Assert.False(sleeper.HasExited, "the process must run on after a checkpoint without --kill");
    }

    [Fact]
    public async Task Checkpoint_json_to_standard_output_is_refused_as_both_need_it()
    {
        var run = await OmCli.RunAsync(["checkpoint", "1", "-o", "-", "--json"]);
        Assert.Equal((2, "om: --json and -o - both need standard output\n", ""), (run.ExitCode, run.Stderr, run.Stdout));
    }
}
