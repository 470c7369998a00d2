using Microsoft.Win32.SafeHandles;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.Linux.Interop;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Keys typed at home while a moved foreground job runs are read ahead by the relay (the job might read or poll its
/// terminal), so they leave home's terminal. What the job did not read when it ends must reach the shell, as it would
/// had the job never moved; and what ^C threw away at home stays thrown away. An interactive bash at home on node 1
/// (tmux plays the user's terminal), the job moved to node 2. Every step waits on what the terminal shows or holds:
/// the typed line's echo, then home's terminal's input queue empty (the relay took the line).
/// </summary>
[Collection(MigrationLab.Collection)]
public sealed class TypedAheadLabTests(MigrationLab fixture)
{
    private readonly TestLab _lab = fixture.Lab;

    // Never reads its stdin but with "readline" (one line, through Python's buffered sys.stdin); ends once the go file
    // exists. With "catch", ^C only says so (the job ends later).
    private static readonly string Script = MovedShellJob.Script(
        """
        if sys.argv[1] == "catch":
            signal.signal(signal.SIGINT, lambda *_: print("interrupted", flush=True))
        """,
        """
        if sys.argv[1] == "readline":
            print("read", sys.stdin.readline().strip(), flush=True)
        print("job done", flush=True)
        """);

    [Fact]
    public void Keys_typed_ahead_that_a_moved_foreground_job_leaves_unread_reach_the_shell_when_it_ends()
    {
        using var job = StartMovedForegroundJob("plain");
        var terminal = job.Terminal;
        TypeAhead(terminal, "echo typed ahead $((6*7))");
        job.Release();
        terminal.Shows(l => l == "job done", "the moved job to end");
        terminal.Shows(l => l == "typed ahead 42", "the shell to run the line typed while the moved job ran");
    }

    [Fact]
    public void A_moved_job_that_reads_one_line_through_a_buffered_reader_leaves_the_next_line_typed_ahead_to_the_shell()
    {
        using var job = StartMovedForegroundJob("readline");
        var terminal = job.Terminal;
        TypeAhead(terminal, "the job's line");
        TypeAhead(terminal, "echo for the shell $((6*7))");
        job.Release();
        // At home a read of a canonical terminal takes one line, however much the reader asks for (Python's
        // sys.stdin asks for 8 KiB): the second line stays in the terminal for the shell.
        terminal.Shows(l => l == "read the job's line", "the moved job to read the first line typed ahead");
        terminal.Shows(l => l == "job done", "the moved job to end");
        terminal.Shows(l => l == "for the shell 42", "the shell to run the second line typed while the moved job ran");
    }

    [Fact]
    public void Keys_typed_before_ctrl_c_at_a_moved_job_are_thrown_away_and_keys_typed_after_it_reach_the_shell()
    {
        using var job = StartMovedForegroundJob("catch");
        var terminal = job.Terminal;
        TypeAhead(terminal, "echo before interrupt $((6*7))");
        terminal.Key("C-c");
        // The terminal echoes ^C with no new line: the job's word follows it.
        terminal.Shows(l => l.EndsWith("interrupted", StringComparison.Ordinal), "the moved job to get ^C");
        TypeAhead(terminal, "echo after interrupt $((6*7))");
        job.Release();
        terminal.Shows(l => l == "after interrupt 42", "the shell to run the line typed after ^C");
        // The shell runs its input in order: had the line typed before ^C survived, it would show above.
        Assert.DoesNotContain("before interrupt 42", terminal.Lines());
    }

    /// <summary>Types <paramref name="line"/> at the moved job; returns once home's terminal echoed it and the relay
    /// took it out of home's terminal (its input queue is empty: canonical mode counts whole lines).</summary>
    private static void TypeAhead(TmuxTerminal terminal, string line)
    {
        terminal.Type(line);
        terminal.Shows(l => l == line, "home's terminal to echo the line typed at the moved job");
        using var tty = OpenPaneTerminal(terminal);
        Poll.Until(() => Terminal.QueuedInput(tty) == 0, TimeSpan.FromSeconds(30), "the relay to read the typed line ahead for the moved job");
    }

    private static SafeFileHandle OpenPaneTerminal(TmuxTerminal terminal) =>
        Descriptors.Open(terminal.PaneTerminal(), OpenFlags.ReadOnly | OpenFlags.NoControllingTerminal | OpenFlags.NonBlock);

    /// <summary>The script in an unmanaged bash's foreground at home on node 1, moved to node 2.</summary>
    private MovedShellJob StartMovedForegroundJob(string mode) =>
        MovedShellJob.Start(_lab, "typeahead", Script, mode, background: false);
}
