using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>Long work shows its progress on a terminal (script(1) gives om one) and never on a pipe.</summary>
public sealed class ProgressTests
{
    [Fact]
    public void A_checkpoint_on_a_terminal_shows_bytes_and_rate_then_erases_them_before_its_result_and_says_nothing_of_it_on_a_pipe()
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("memticker"), ["64", "400", "50"], dir.File("out"));
        Poll.Until(() => File.ReadAllText(dir.File("out")).Contains("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "memticker to fill its memory");

        var onTerminal = CommandRun.Run("/usr/bin/script", ["-q", "-e", "-c", $"{TestPaths.Om} checkpoint {child.Pid} -o {dir.File("a.img")}", "/dev/null"]);
        Assert.True(onTerminal.ExitCode == 0, onTerminal.ToString());
        Assert.Null(TerminalScreen.ProgressErasedBeforeResult(onTerminal.Stdout, $"om: checkpoint of PID {child.Pid}: ", $"om: checkpointed PID {child.Pid}:"));

        var piped = CommandRun.Run(TestPaths.Om, ["checkpoint", $"{child.Pid}", "-o", dir.File("b.img")]);
        Assert.True(piped.ExitCode == 0, piped.ToString());
        Assert.StartsWith($"om: checkpointed PID {child.Pid}:", piped.Stderr, StringComparison.Ordinal);
        Assert.Single(piped.Stderr.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("MiB/s", piped.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_migration_on_a_terminal_shows_omds_reports_of_the_move_then_erases_them_and_on_a_pipe_asks_for_none()
    {
        using var dir = new TempDirectory();
        const string Result = """{"pid":4242,"from":1,"to":2,"imageBytes":3145728,"frozenMs":12,"remotePid":77,"precopyRounds":1,"precopyBytes":67108864,"totalMs":900}""";
        using var omd = new FakeOmd(dir.File("omd.sock"), body => AsksForProgress(body)
            ? [FakeOmd.StreamHead,
               """{"progress":{"phase":"precopy","round":1,"bytes":33554432,"elapsedMs":100}}""" + "\n",
               """{"result":""" + Result + "}\n"]
            : [FakeOmd.Json(Result)]);
        var environment = new Dictionary<string, string> { ["OM_SOCKET"] = omd.SocketPath };

        var onTerminal = CommandRun.Run("/usr/bin/script", ["-q", "-e", "-c", $"{TestPaths.Om} migrate 4242 2", "/dev/null"], environment);
        Assert.True(onTerminal.ExitCode == 0, onTerminal.ToString());
        Assert.Null(TerminalScreen.ProgressErasedBeforeResult(onTerminal.Stdout, "om: migration of PID 4242, pre-copy round 1: 32.0 MiB, ",
            "process 4242 moved from node 1 to node 2"));

        var piped = CommandRun.Run(TestPaths.Om, ["migrate", "4242", "2"], environment);
        Assert.True(piped.ExitCode == 0, piped.ToString());
        Assert.Equal(["process 4242 moved from node 1 to node 2 (3.0 MiB, frozen 12 ms, after 1 pre-copy round of 64.0 MiB while it ran, 900 ms in all)"],
            piped.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal([true, false], omd.Bodies.Select(AsksForProgress));
    }

    [Fact]
    public void An_omd_that_stops_in_the_middle_of_a_migration_gets_one_line_saying_so_with_or_without_progress()
    {
        using var dir = new TempDirectory();
        using var omd = new FakeOmd(dir.File("omd.sock"), body => AsksForProgress(body)
            ? [FakeOmd.StreamHead, """{"progress":{"phase":"precopy","round":1,"bytes":33554432,"elapsedMs":100}}""" + "\n"]
            : []);
        var environment = new Dictionary<string, string> { ["OM_SOCKET"] = omd.SocketPath };

        var piped = CommandRun.Run(TestPaths.Om, ["migrate", "4242", "2"], environment);
        var onTerminal = CommandRun.Run("/usr/bin/script", ["-q", "-e", "-c", $"{TestPaths.Om} migrate 4242 2", "/dev/null"], environment);

        Assert.Equal((1, $"om: omd at {omd.SocketPath} closed the connection before it answered (was it stopped?)\n"), (piped.ExitCode, piped.Stderr));
        Assert.Equal(1, onTerminal.ExitCode);
        Assert.EndsWith("om: omd closed the connection before the move ended (was it stopped?)\r\n", onTerminal.Stdout, StringComparison.Ordinal);
    }

    private static bool AsksForProgress(string body) => System.Text.RegularExpressions.Regex.IsMatch(body, "\"progress\":\\s*true");
}
