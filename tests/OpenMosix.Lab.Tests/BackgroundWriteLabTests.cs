using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A job of an interactive shell at home (tmux plays the user's terminal), moved while in the shell's background, that
/// writes to the terminal after `stty tostop`, or changes its modes (tcsetattr) with or without it: home's job control
/// holds as if it had not moved. It is stopped by SIGTTOU (the shell lists it stopped, its copy on the other node is
/// stopped, and nothing it wrote shows), and `fg` continues it and its output arrives; one that ignores SIGTTOU writes
/// from the background, as the kernel lets it. TOSTOP set at home after the move counts from then on, as it would.
/// </summary>
[Collection(MigrationLab.Collection)]
public sealed class BackgroundWriteLabTests(MigrationLab fixture)
{
    private readonly TestLab _lab = fixture.Lab;

    private static readonly string Script = MovedShellJob.Script(
        """
        if sys.argv[1] == "ignore":
            signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        """,
        """
        if sys.argv[1] == "change":
            termios.tcsetattr(1, termios.TCSANOW, termios.tcgetattr(1))
            print("changed", "the", "modes", flush=True)
        else:
            print("wrote", "from", sys.argv[1], flush=True)
        """);

    [Fact]
    public void A_moved_job_writing_to_a_tostop_terminal_from_home_shells_background_is_stopped_by_sigttou_and_fg_lets_its_output_arrive() =>
        StoppedThenContinuedByFg("default", tostop: true, "wrote from default");

    [Fact]
    public void A_moved_job_writing_from_home_shells_background_after_stty_tostop_typed_at_home_after_the_move_is_stopped_by_sigttou() =>
        StoppedThenContinuedByFg("default", tostop: false, "wrote from default", tostopAfterMove: true);

    [Fact]
    public void A_moved_job_changing_the_terminals_modes_from_home_shells_background_is_stopped_by_sigttou_and_fg_lets_it_go_on() =>
        StoppedThenContinuedByFg("change", tostop: false, "changed the modes");

    [Fact]
    public void A_moved_job_that_ignores_sigttou_writes_to_a_tostop_terminal_from_home_shells_background()
    {
        using var job = StartMovedBackgroundJob("ignore", tostop: true);
        var terminal = job.Terminal;
        job.Release();
        terminal.Shows(l => l.EndsWith("wrote from ignore", StringComparison.Ordinal), "the moved job's write in the background to reach the terminal");
        terminal.Type("echo stopped $(jobs -sp) done");
        terminal.Shows(l => l == "stopped done", "the shell to list no stopped job");
    }

    private void StoppedThenContinuedByFg(string mode, bool tostop, string output, bool tostopAfterMove = false)
    {
        using var job = StartMovedBackgroundJob(mode, tostop);
        var (terminal, python) = (job.Terminal, job.Python);
        if (tostopAfterMove)
        {
            var copy = _lab.Processes(1).Processes.Single(p => p.Pid == python).RemotePid;
            terminal.Type("stty tostop; echo tostop now $(stty -a | grep -o -- '-*tostop')");
            terminal.Shows(l => l == "tostop now tostop", "the shell to set the terminal's TOSTOP after the move");
            // Home watches its terminal and tells the copy's node: the write must come once that node knows.
            _lab.WaitForDaemonLog(2, $"Process {copy}: home's terminal has its job in the background, TOSTOP set", TimeSpan.FromSeconds(30));
        }
        job.ReleaseUntilStopped("SIGTTOU");
        Assert.DoesNotContain(terminal.Lines(), l => l.EndsWith(output, StringComparison.Ordinal));
        terminal.Type("fg");
        terminal.Shows(l => l.EndsWith(output, StringComparison.Ordinal), "the moved job's output once fg continued it");
        Poll.Until(() => job.Gone, TimeSpan.FromSeconds(30), "the moved job to end");
        terminal.Type("echo status $?");
        terminal.Shows(l => l == "status 0", "the job to end well");
    }

    /// <summary>The script in an unmanaged bash's background at home on node 1, with TOSTOP set or cleared on its
    /// terminal as asked before the move, moved to node 2.</summary>
    private MovedShellJob StartMovedBackgroundJob(string mode, bool tostop) =>
        MovedShellJob.Start(_lab, "bgwrite", Script, mode, background: true, terminal =>
        {
            terminal.Type($"stty {(tostop ? "" : "-")}tostop; echo tostop $(stty -a | grep -o -- '-*tostop')");
            terminal.Shows(l => l == $"tostop {(tostop ? "" : "-")}tostop", "the shell to set the terminal's TOSTOP");
        });
}
