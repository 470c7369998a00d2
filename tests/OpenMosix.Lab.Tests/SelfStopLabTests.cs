using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A moved program that stops itself with a terminal stop signal and its default action (`less`'s
/// kill(getpid(), SIGTSTP), an editor's suspend) stops as it would at home, where its shell's job control puts it in
/// a group that is not orphaned. On its node its group is orphaned (its parent omd is in another session), where the
/// kernel would discard the signal: the forwarding filter hands it to omd, which has the deputy send it to itself at
/// home (docs/forwarding.md). tmux plays the user's terminal at home, under a shell with job control.
/// </summary>
[Collection(MigrationLab.ForwardingCollection)]
public sealed class SelfStopLabTests(MigrationLab fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly TestLab _lab = fixture.Lab;

    /// <summary>Reads a line once ready, then sends itself SIGTSTP with the default action and says it went on.</summary>
    private const string Script = """
        import os, signal, sys
        print("ready", flush=True)
        sys.stdin.readline()
        print("pid", os.getpid(), flush=True)
        os.kill(os.getpid(), signal.SIGTSTP)
        print("went on", flush=True)
        """;

    [Fact]
    public void A_moved_program_that_sends_itself_sigtstp_stops_on_its_node_and_at_home_and_goes_on_after_sigcont_from_home()
    {
        _lab.ExplainingFailure(() =>
        {
            var (terminal, deputy, copy) = MoveAndStop(Script, "selfstop");
            using (terminal)
            {
                Assert.DoesNotContain("went on", terminal.Lines());
                Signals.Kill(deputy, Signals.SIGCONT);
                terminal.Shows(l => l == "went on", "SIGCONT from home to let the moved program go on");
                Poll.Until(() => State(copy) is '?' or 'Z', Bound, "the moved program to end");
            }
        });
    }

    [Fact]
    public void A_moved_program_whose_sigtstp_handler_stops_it_by_the_default_action_stops_once_and_catches_the_next_again()
    {
        // As less and vi do: the handler sets the default action, stops the process, and once continued catches again.
        // The stop relayed back from home must not reach the handler set again after SIGCONT.
        const string Script = """
            import os, signal, sys
            calls = 0
            def on_tstp(s, f):
                global calls
                calls += 1
                signal.signal(signal.SIGTSTP, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTSTP)
                signal.signal(signal.SIGTSTP, on_tstp)
            signal.signal(signal.SIGTSTP, on_tstp)
            print("ready", flush=True)
            sys.stdin.readline()
            print("pid", os.getpid(), flush=True)
            os.kill(os.getpid(), signal.SIGTSTP)
            print("went on after", calls, "handler calls", flush=True)
            """;
        _lab.ExplainingFailure(() =>
        {
            var (terminal, deputy, copy) = MoveAndStop(Script, "handlerstop");
            using (terminal)
            {
                Assert.DoesNotContain(terminal.Lines(), l => l.StartsWith("went on", StringComparison.Ordinal));
                Signals.Kill(deputy, Signals.SIGCONT);
                terminal.Shows(l => l == "went on after 1 handler calls", "the program to go on after one stop");
                Poll.Until(() => State(copy) is '?' or 'Z', Bound, "the moved program to end");
            }
        });
    }

    [Fact]
    public void A_moved_program_whose_group_is_orphaned_at_home_goes_on_after_sending_itself_sigtstp_as_it_would_at_home()
    {
        // setsid: the program leads a session of its own at home, its parent in another: its group is orphaned there,
        // and home's kernel discards a terminal stop it sends itself. It goes on, as unmoved, and is never seen stopped.
        _lab.ExplainingFailure(() =>
        {
            var (terminal, _, copy) = StopFromTheNodeLabTests.MovedUnderShell(_lab, Script, "orphanstop", "setsid -w");
            using (terminal)
            {
                // Not stopped (the shell would print EXITED 148): it goes on and ends, gone before its group could be
                // looked at here (StopFromTheNodeLabTests checks such a group is orphaned at home).
                terminal.Shows(l => l == "went on", "the moved program to go on after its discarded stop");
                terminal.Shows(l => l == "EXITED 0", "the moved program to end as unmoved, never seen stopped");
                Poll.Until(() => State(copy) is '?' or 'Z', Bound, "the copy to end");
            }
        });
    }

    /// <summary>Runs <paramref name="script"/> under a job-control shell at home (its group not orphaned there), moves
    /// it to node 2, lets it read its line and waits until the copy (its PID printed on node 2) is stopped and home's
    /// shell has seen its job stopped by SIGTSTP (128 + 20), as for the unmoved program (`om lab exec`, the job's
    /// leader, is the deputy). That report, not the deputy's state, says the stop is done at home: the deputy is in a
    /// tracing stop ('t') whenever omd works on it, also before it stops (SIGCONT sent then came before the stop).</summary>
    private (TmuxTerminal Terminal, int Deputy, int Copy) MoveAndStop(string script, string name)
    {
        var path = Path.Combine(_lab.Layout.NodeDirectory(1), $"{name}-{Guid.NewGuid():N}.py");
        File.WriteAllText(path, script);
        var terminal = TmuxTerminal.Start($"bash --norc --noprofile -c 'set -m; {Om.Path} lab exec --name {_lab.Name} 1 -- {Om.Path} run /usr/bin/python3 {path}; echo EXITED $?; sleep 60'");
        try
        {
            terminal.Shows(l => l == "ready", "the program to start");
            var deputy = _lab.Processes(1).Processes.Single(p => p.Command.Contains(path, StringComparison.Ordinal)).Pid;
            _lab.Migrate(1, deputy, "2");
            Assert.Equal("remote", _lab.Processes(1).Processes.Single(p => p.Pid == deputy).State);
            terminal.Type("go");
            var copy = 0;
            terminal.Shows(l => l.StartsWith("pid ", StringComparison.Ordinal) && int.TryParse(l[4..], out copy), "the moved program to print its PID on its node");
            Assert.NotEqual(deputy, copy);
            terminal.Shows(l => l == "EXITED 148", "home's shell to see its job stopped by SIGTSTP");
            Poll.Until(() => State(copy) == 'T', Bound, "the copy to be stopped");
            return (terminal, deputy, copy);
        }
        catch
        {
            terminal.Dispose();
            throw;
        }
    }

    private static char State(int pid)
    {
        try
        {
            return ProcFs.ReadStat(pid).State;
        }
        catch (ProcessAccessException)
        {
            return '?';
        }
    }
}
