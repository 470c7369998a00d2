using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// `om migrate` with omd's real progress stream: on a terminal (script(1) gives om one inside the node) the move's
/// steps show on one line of stderr, erased before the result; on a pipe om asks for none and prints the result alone.
/// </summary>
[Collection(MigrationLab.ForwardingCollection)]
public sealed class MigrationProgressLabTests(MigrationLab fixture)
{
    private readonly TestLab _lab = fixture.Lab;

    [Fact]
    public void A_move_watched_on_a_terminal_shows_its_progress_then_its_result_and_on_a_pipe_only_its_result()
    {
        using var run = _lab.Managed(1, TestPrograms.Locate("memticker"), "64", "200", "50");
        run.WaitForLines(3);

        var onTerminal = _lab.Exec(1, "/usr/bin/script", "-q", "-e", "-c", $"{Om.Path} migrate {run.Pid} 2", "/dev/null").Succeeded();
        Assert.Null(TerminalScreen.ProgressErasedBeforeResult(onTerminal.Stdout, $"om: migration of PID {run.Pid}, ",
            $"process {run.Pid} moved from node 1 to node 2"));

        var piped = _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "3").Succeeded();
        Assert.StartsWith($"process {run.Pid} moved from node 2 to node 3", Assert.Single(piped.Stderr.TrimEnd('\n').Split('\n')), StringComparison.Ordinal);
        Assert.DoesNotContain("MiB/s", piped.Stderr, StringComparison.Ordinal);
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
    }
}
