using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A job of an interactive shell at home (tmux plays the user's terminal), moved while in the shell's background, that
/// reads the terminal: home's job control holds as if it had not moved. It is stopped by SIGTTIN (the shell lists it
/// stopped, and its copy on the other node is stopped too), and `fg` gives it the terminal and the line typed there;
/// one that ignores SIGTTIN gets EIO, as the kernel answers it.
/// </summary>
[Collection(MigrationLab.Collection)]
public sealed class BackgroundReadLabTests(MigrationLab fixture)
{
    private readonly TestLab _lab = fixture.Lab;

    private static readonly string Script = MovedShellJob.Script(
        """
        if sys.argv[1] == "ignore":
            signal.signal(signal.SIGTTIN, signal.SIG_IGN)
        """,
        """
        try:
            print("got", sys.stdin.readline().strip(), flush=True)
        except OSError as e:
            print("read failed", e.errno, flush=True)
        """);

    [Fact]
    public void A_moved_job_reading_the_terminal_in_home_shells_background_is_stopped_by_sigttin_and_fg_gives_it_the_line_typed()
    {
        using var job = StartMovedBackgroundJob("default");
        var (terminal, python) = (job.Terminal, job.Python);
        job.ReleaseUntilStopped("SIGTTIN");
        terminal.Type("fg");
        // Typed only once fg gave the job the terminal (stat's tpgid): keys typed before are the shell's.
        Poll.Until(() => ProcFs.ReadStat(python).Number(8) == ProcFs.ReadStat(python).Number(5), TimeSpan.FromSeconds(20), "fg to give the job home's terminal");
        terminal.Type("typed after fg");
        terminal.Shows(l => l.EndsWith("got typed after fg", StringComparison.Ordinal), "the moved job to read the line typed once it is in the foreground");
        // Typed once the job has ended, so that the shell's answer is the job's status (keys typed ahead at the job
        // go back to the shell too: TypedAheadLabTests).
        Poll.Until(() => job.Gone, TimeSpan.FromSeconds(30), "the moved job to end");
        terminal.Type("echo status $?");
        terminal.Shows(l => l == "status 0", "the job to end well");
    }

    [Fact]
    public void A_moved_job_that_ignores_sigttin_and_reads_the_terminal_in_home_shells_background_gets_eio()
    {
        using var job = StartMovedBackgroundJob("ignore");
        var terminal = job.Terminal;
        job.Release();
        terminal.Shows(l => l.EndsWith("read failed 5", StringComparison.Ordinal), "the moved job's read in the background to fail with EIO");
        terminal.Type("echo stopped $(jobs -sp) done");
        terminal.Shows(l => l == "stopped done", "the shell to list no stopped job");
    }

    /// <summary>The script in an unmanaged bash's background at home on node 1, moved to node 2.</summary>
    private MovedShellJob StartMovedBackgroundJob(string mode) =>
        MovedShellJob.Start(_lab, "bgread", Script, mode, background: true);
}
