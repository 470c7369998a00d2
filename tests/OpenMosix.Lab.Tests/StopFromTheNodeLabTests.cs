using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A stop signal another process of the copy's node sends it (`kill -TSTP` there) stops the job as at home: home's
/// job-control shell sees it stopped by that signal, and SIGCONT from home lets it go on. The copy's group on its node
/// has no parent in its session but omd (in another), so the kernel there discarded SIGTSTP, SIGTTIN and SIGTTOU as for
/// an orphaned group; the stand-in session's keeper, a member of the copy's group whose parent leads the session, keeps
/// it from being orphaned (SessionHolder; docs/forwarding.md). tmux plays the user's terminal at home.
/// </summary>
[Collection(MigrationLab.ForwardingCollection)]
public sealed class StopFromTheNodeLabTests(MigrationLab fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly TestLab _lab = fixture.Lab;

    [Theory]
    [InlineData("TSTP", 20)]
    [InlineData("TTIN", 21)]
    [InlineData("TTOU", 22)]
    [InlineData("STOP", 19)]
    public void A_stop_signal_a_process_of_the_copys_node_sends_it_stops_the_job_at_home_and_sigcont_from_home_lets_it_go_on(string name, int signal)
    {
        // SIGCONT blocked and waited for: the program says it went on only once continued, whatever the load. The stop
        // signals take their default action: om run, started from a terminal, leaves SIGTTIN and SIGTTOU ignored.
        const string Script = """
            import os, signal, sys
            for s in (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
                signal.signal(s, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGCONT])
            print("ready", flush=True)
            sys.stdin.readline()
            print("pid", os.getpid(), flush=True)
            signal.sigwait([signal.SIGCONT])
            print("went on", flush=True)
            """;
        _lab.ExplainingFailure(() =>
        {
            var (terminal, deputy, copy) = MovedUnderShell(_lab, Script, $"nodestop{name}");
            using (terminal)
            {
                // A process of node 2 (in its namespaces) stops the copy there.
                _lab.Exec(2, "kill", $"-{name}", $"{copy}").Succeeded();
                terminal.Shows(l => l == $"EXITED {128 + signal}", $"home's shell to see its job stopped by SIG{name}");
                Poll.Until(() => State(copy) == 'T', Bound, "the copy to be stopped");
                Assert.DoesNotContain("went on", terminal.Lines());
                Signals.Kill(deputy, Signals.SIGCONT);
                terminal.Shows(l => l == "went on", "SIGCONT from home to let the moved program go on");
                Poll.Until(() => State(copy) is '?' or 'Z', Bound, "the moved program to end");
            }
        });
    }

    [Fact]
    public void A_terminal_stop_a_process_of_the_node_sends_a_copy_whose_group_is_orphaned_at_home_leaves_it_running_as_at_home()
    {
        // setsid: the job's group is orphaned at home, whose kernel would discard the stop for the unmoved program. On
        // its node the copy's group has a keeper, so the kernel there stops it: home then has it continued.
        const string Script = """
            import os, signal, sys
            signal.signal(signal.SIGTSTP, signal.SIG_DFL)
            print("ready", flush=True)
            sys.stdin.readline()
            print("pid", os.getpid(), flush=True)
            for line in sys.stdin:
                print("echo", line.strip(), flush=True)
            """;
        _lab.ExplainingFailure(() =>
        {
            var (terminal, deputy, copy) = MovedUnderShell(_lab, Script, "orphannodestop", "setsid -w");
            using (terminal)
            {
                Assert.True(OrphanedGroups.OfProcess(deputy), "the setsid job's group is orphaned at home");
                _lab.Exec(2, "kill", "-TSTP", $"{copy}").Succeeded();
                _lab.WaitForDaemonLog(1, $"process {deputy}'s copy stopped by signal 20 on its node, which its group, orphaned here, discards", Bound);
                terminal.Type("again");
                terminal.Shows(l => l == "echo again", "the moved program to go on reading its terminal");
                Assert.DoesNotContain(terminal.Lines(), l => l.StartsWith("EXITED", StringComparison.Ordinal));
            }
        });
    }

    /// <summary>Runs <paramref name="script"/> with python3 in tmux under bash with job control (`set -m`), started by
    /// <paramref name="launcher"/> (e.g. `setsid -w`; empty: the job itself), moves it to node 2 once it says `ready`,
    /// types it a line and returns once it printed its PID on node 2 (`pid N`). bash prints `EXITED` and the job's
    /// status when it ends or stops. `om lab exec`, the job's leader (or the launcher's child), is the deputy.</summary>
    internal static (TmuxTerminal Terminal, int Deputy, int Copy) MovedUnderShell(TestLab lab, string script, string name, string launcher = "")
    {
        var path = Path.Combine(lab.Layout.NodeDirectory(1), $"{name}-{Guid.NewGuid():N}.py");
        File.WriteAllText(path, script);
        var terminal = TmuxTerminal.Start($"bash --norc --noprofile -c 'set -m; {launcher} {Om.Path} lab exec --name {lab.Name} 1 -- {Om.Path} run /usr/bin/python3 {path}; echo EXITED $?; sleep 60'");
        try
        {
            terminal.Shows(l => l == "ready", "the program to start");
            var deputy = lab.Processes(1).Processes.Single(p => p.Command.Contains(path, StringComparison.Ordinal)).Pid;
            lab.Migrate(1, deputy, "2");
            Assert.Equal("remote", lab.Processes(1).Processes.Single(p => p.Pid == deputy).State);
            terminal.Type("go");
            var copy = 0;
            terminal.Shows(l => l.StartsWith("pid ", StringComparison.Ordinal) && int.TryParse(l[4..], out copy), "the moved program to print its PID on its node");
            Assert.NotEqual(deputy, copy);
            return (terminal, deputy, copy);
        }
        catch
        {
            terminal.Dispose();
            throw;
        }
    }

    internal static char State(int pid)
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
