using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// Processes the engine cannot move are refused with a reason and left untouched: they finish exactly as if
/// nothing had happened.
/// </summary>
public sealed class CantMoveTests
{
    /// <summary>Program, its arguments, a word of the reason. sharedmap's "- share" keeps anonymous shared memory that a
    /// forked child maps too (alone, such memory travels).</summary>
    public static TheoryData<string, string, string> Unmovable => new()
    {
        { "sharedmap", "40 50 - share", "also maps" },
        { "tcpclient", "40 50", "socket" },
    };

    [Theory]
    [MemberData(nameof(Unmovable))]
    public async Task Checkpoint_refuses_an_unmovable_process_with_its_reason_and_leaves_it_running(string program, string arguments, string keyword)
    {
        var reference = await ReferenceCache.GetAsync($"{program} {arguments}", () => CheckpointFlow.RunUninterruptedAsync(Plain(program, arguments)));
        using var dir = new TempDirectory("om-e2e-" + program);
        using var process = RunningProcess.Start(CompiledProgramRestoreTests.Target(dir.Path, program, arguments.Split(' ')));
        process.CloseStdin();
        await process.WaitForStdoutLinesAsync(3, TimeSpan.FromSeconds(20));

        var image = dir.File("process.omimg");
        var refused = await OmCli.CheckpointAsync(process.Pid, image, kill: true);
        Assert.True(refused.ExitCode != 0, $"checkpoint of {program} should be refused: {refused}");
        var reason = refused.Stderr.TrimEnd('\n');
        Assert.True(reason.Length > 0 && !reason.Contains('\n'), $"the refusal should be one line on stderr: {refused}");
        Assert.Contains(keyword, reason, StringComparison.OrdinalIgnoreCase);
        Assert.False(process.HasExited, $"{program} must keep running after a refused checkpoint --kill");

        var status = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        new ProgramOutcome(process.StdoutBytes, status, new Dictionary<string, byte[]>()).ShouldMatch(reference);
    }

    /// <summary>What a move cannot take along at all (a socket is forwarded through home instead).</summary>
    public static TheoryData<string, string, string> Immovable => new()
    {
        { "sharedmap", "40 50 - share", "also maps" },
    };

    [Theory]
    [MemberData(nameof(Immovable))]
    public async Task Cantmove_names_the_reason_and_exits_1_for_an_unmovable_process(string program, string arguments, string keyword)
    {
        using var dir = new TempDirectory("om-e2e-" + program);
        using var process = RunningProcess.Start(CompiledProgramRestoreTests.Target(dir.Path, program, arguments.Split(' ')));
        process.CloseStdin();
        await process.WaitForStdoutLinesAsync(2, TimeSpan.FromSeconds(20));

        var report = await OmCli.CantMoveAsync(process.Pid);
        Assert.True(report.ExitCode == 1, report.ToString());
        Assert.Contains(keyword, report.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    /// <summary>A restored thread shares the process's descriptor table: one that made its own is named, not lost.</summary>
    [Fact]
    public async Task Cantmove_names_a_thread_with_a_descriptor_table_of_its_own_and_exits_1()
    {
        using var dir = new TempDirectory("om-e2e-threadfiles");
        using var process = RunningProcess.Start(CompiledProgramRestoreTests.Target(dir.Path, "eng_unmovable", "threadfiles"));
        await process.WaitForStdoutLinesAsync(1, TimeSpan.FromSeconds(20));

        var report = await OmCli.CantMoveAsync(process.Pid);
        Assert.True(report.ExitCode == 1, report.ToString());
        Assert.Matches(@"its thread \d+ has a descriptor table of its own \(unshare CLONE_FILES\)", report.Stdout);
        process.CloseStdin();
        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Cantmove_says_a_socket_is_forwarded_through_home_and_exits_0()
    {
        using var dir = new TempDirectory("om-e2e-tcpclient");
        using var process = RunningProcess.Start(CompiledProgramRestoreTests.Target(dir.Path, "tcpclient", ["40", "50"]));
        process.CloseStdin();
        await process.WaitForStdoutLinesAsync(2, TimeSpan.FromSeconds(20));

        var report = await OmCli.CantMoveAsync(process.Pid);
        Assert.True(report.ExitCode == 0, report.ToString());
        Assert.Matches(@"fd \d+ \(socket:\[\d+\]\) is forwarded through home", report.Stdout);
        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Cantmove_exits_0_for_a_plain_single_threaded_process()
    {
        using var dir = new TempDirectory("om-e2e-" + "plain");
        using var process = RunningProcess.Start(CompiledProgramRestoreTests.Target(dir.Path, "sleeper", "40", "50"));
        process.CloseStdin();
        await process.WaitForStdoutLinesAsync(2, TimeSpan.FromSeconds(20));

        var report = await OmCli.CantMoveAsync(process.Pid);
        Assert.True(report.ExitCode == 0, report.ToString());
        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    private static Scenario Plain(string program, string arguments) => new()
    {
        Key = $"{program} {arguments}",
        Command = dir => CompiledProgramRestoreTests.Target(dir, program, arguments.Split(' ')),
        Ready = _ => true,
        ReadyDescription = "",
    };
}
