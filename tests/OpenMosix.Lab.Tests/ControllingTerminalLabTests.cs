using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A moved program's terminal is its controlling terminal (tmux plays the user's terminal at home): tcgetpgrp,
/// tcsetpgrp, TIOCGSID and /dev/tty answer on the node it runs on, and a moved shell's own job control works there.
/// </summary>
[Collection(MigrationLab.ForwardingCollection)]
public sealed class ControllingTerminalLabTests(MigrationLab fixture)
{
    private readonly TestLab _lab = fixture.Lab;

    [Fact]
    public void A_moved_program_is_in_its_terminals_foreground_group_and_writes_through_dev_tty_to_the_terminal_at_home()
    {
        const string Script = """
            import fcntl, os, struct, sys
            print("ready", flush=True)
            sys.stdin.readline()
            print("foreground", os.tcgetpgrp(0) == os.getpgrp(), flush=True)
            sid = struct.unpack("i", fcntl.ioctl(0, 0x5429, b"\0" * 4))[0]  # TIOCGSID
            print("session", sid == os.getsid(0), flush=True)
            tty = os.open("/dev/tty", os.O_RDWR)
            os.tcsetpgrp(tty, os.getpgrp())
            os.write(tty, b"written to dev tty\n")
            print("done", flush=True)
            """;
        var script = Path.Combine(_lab.Layout.NodeDirectory(1), $"ctty-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, Script);
        using var terminal = TmuxTerminal.Start($"{Om.Path} lab exec --name {_lab.Name} 1 -- {Om.Path} run /usr/bin/python3 {script}; echo EXITED $?; sleep 60");
        terminal.Shows(l => l == "ready", "the program to start");
        var python = _lab.Processes(1).Processes.Single(p => p.Command.Contains(script, StringComparison.Ordinal));
        _lab.Migrate(1, python.Pid, "2");
        Assert.Equal("remote", _lab.Processes(1).Processes.Single(p => p.Pid == python.Pid).State);
        terminal.Type("go");
        terminal.Shows(l => l == "foreground True", "tcgetpgrp to answer the program's own group");
        terminal.Shows(l => l == "session True", "TIOCGSID to answer the program's own session");
        terminal.Shows(l => l == "written to dev tty", "a write to /dev/tty to reach the terminal at home");
        terminal.Shows(l => l == "done", "the program to finish");
        terminal.Shows(l => l == "EXITED 0", "the program to end with status 0");
    }

    /// <summary>
    /// The moved shell's jobs run on its node under its own job control. In one lab the copy's PID (and so its group)
    /// differs from home's, which the shell cached at its start and gives the terminal back to after each foreground
    /// job: that number is turned into the copy's here (docs/forwarding.md), so foreground jobs follow one another.
    /// </summary>
    [Fact]
    public void A_moved_interactive_shell_keeps_its_job_control_foreground_jobs_in_a_row_sigttin_ctrl_z_bg_fg_and_ctrl_c()
    {
        using var terminal = TmuxTerminal.Start($"{Om.Path} lab exec --name {_lab.Name} 1 -- {Om.Path} run /bin/bash --norc --noprofile -i; echo EXITED $?; sleep 60");
        terminal.Type("PS1='ready> '");
        terminal.Shows(l => l == "ready>", "the shell's prompt");
        var shell = _lab.Processes(1).Processes.Single(p => p.Command.Contains("bash --norc", StringComparison.Ordinal) && p.ParentPid == 0).Pid;
        _lab.Migrate(1, shell, "2");
        Assert.Equal("remote", _lab.Processes(1).Processes.Single(p => p.Pid == shell).State);

        terminal.Type("echo through dev tty > /dev/tty");
        terminal.Shows(l => l == "through dev tty", "the moved shell to write to /dev/tty");
        // Each a foreground job (a program, not a builtin); the shell reads its next line only once it has its terminal back.
        terminal.Type("/bin/echo first $((6*7))");
        terminal.Shows(l => l == "first 42", "a first foreground job");
        terminal.Type("/bin/echo second $((6*8))");
        terminal.Shows(l => l == "second 48", "a second foreground job after the first");

        // A length no other test's sleep has: the job is found by its command line among every process of the host.
        var seconds = (3000 + Environment.TickCount64 % 6000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        terminal.Type($"sleep {seconds}");
        var sleeper = ForegroundSleep(seconds);
        using var sleeperFd = Linux.PidFd.Open(sleeper);
        terminal.Key("C-z");
        terminal.Shows(l => l.StartsWith("[1]+", StringComparison.Ordinal) && l.Contains("Stopped", StringComparison.Ordinal) && l.Contains($"sleep {seconds}", StringComparison.Ordinal),
            "^Z at home to stop the moved shell's foreground job");
        terminal.Type("bg");
        Poll.Until(() => ProcFs.ReadStat(sleeper).State == 'S', TimeSpan.FromSeconds(20), "bg to continue the stopped job");
        terminal.Type("jobs");
        terminal.Shows(l => l.StartsWith("[1]+", StringComparison.Ordinal) && l.Contains("Running", StringComparison.Ordinal) && l.Contains($"sleep {seconds}", StringComparison.Ordinal),
            "jobs to list the job running in the background");
        var reader = $"reader-{Guid.NewGuid():N}"[..15];
        terminal.Type($"(exec -a {reader} cat) &");
        Poll.Until(() => Find(reader) is > 0 and var pid && ProcFs.ReadStat(pid).State == 'T', TimeSpan.FromSeconds(20), "a background job reading the terminal to be stopped");
        terminal.Type("jobs");
        terminal.Shows(l => l.Contains("Stopped", StringComparison.Ordinal) && l.Contains(reader, StringComparison.Ordinal), "the shell to see SIGTTIN stop the job");
        terminal.Type("kill %2; fg %1");
        Assert.Equal(sleeper, ForegroundSleep(seconds));
        terminal.Key("C-c");
        Poll.Until(() => !sleeperFd.Exists, TimeSpan.FromSeconds(20), "^C at home to end the moved shell's foreground job");
        terminal.Type("/bin/echo third $((6*9))");
        terminal.Shows(l => l == "third 54", "the shell to go on after its jobs");
        Assert.Equal(0, Find(reader));
    }

    /// <summary>
    /// Signals of the terminal at home and signals sent with kill to the process at home land where they would at home:
    /// ^Z, which the program catches, runs its handler and stops neither it nor its deputy; a SIGINT sent to the
    /// process reaches it and not its terminal's foreground job; ^C reaches that job. A job-control shell at home
    /// (set -m) gives the moved program the home terminal's foreground, as an interactive one would.
    /// </summary>
    [Fact]
    public void Kill_sigint_reaches_the_moved_program_ctrl_c_its_foreground_job_and_a_caught_ctrl_z_stops_neither_program_nor_deputy()
    {
        var seconds = (9000 + Environment.TickCount64 % 6000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var script = Path.Combine(_lab.Layout.NodeDirectory(1), $"ctty-signals-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, $$"""
            import os, signal, sys
            signal.signal(signal.SIGINT, lambda s, f: None)
            signal.signal(signal.SIGTSTP, lambda s, f: None)
            signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT, signal.SIGTSTP])
            print("ready", flush=True)
            sys.stdin.readline()
            print("read", flush=True)
            signal.sigwaitinfo([signal.SIGTSTP])
            print("caught SIGTSTP", flush=True)
            child = os.fork()
            if child == 0:
                os.setpgid(0, 0)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT, signal.SIGTSTP])
                os.execvp("sleep", ["sleep", "{{seconds}}"])
            try:
                os.setpgid(child, child)
            except OSError:
                pass  # the child has run exec already, in its group
            os.tcsetpgrp(0, child)
            print("child in the foreground", flush=True)
            signal.sigwaitinfo([signal.SIGINT])
            print("got SIGINT", flush=True)
            pid, status = os.waitpid(child, 0)
            print("child ended by signal", os.WTERMSIG(status), flush=True)
            os.tcsetpgrp(0, os.getpgrp())
            print("pending", signal.SIGINT in signal.sigpending(), flush=True)
            """);
        using var terminal = TmuxTerminal.Start($"bash --norc --noprofile -c 'set -m; {Om.Path} lab exec --name {_lab.Name} 1 -- {Om.Path} run /usr/bin/python3 {script}; echo EXITED $?; sleep 60'");
        terminal.Shows(l => l == "ready", "the program to start");
        var python = _lab.Processes(1).Processes.Single(p => p.Command.Contains(script, StringComparison.Ordinal)).Pid;
        _lab.Migrate(1, python, "2");
        Assert.Equal("remote", _lab.Processes(1).Processes.Single(p => p.Pid == python).State);
        terminal.Type("go");
        // ^Z throws away what its terminal holds unread (no NOFLSH), as at home: "go" must be read before it is pressed.
        terminal.Shows(l => l == "read", "the program to read its line before ^Z");

        terminal.Key("C-z");
        // The terminal at home echoes ^Z (ECHOCTL) where the line then goes on.
        terminal.Shows(l => l.EndsWith("caught SIGTSTP", StringComparison.Ordinal), "^Z at home to reach the moved program's handler");
        terminal.Shows(l => l == "child in the foreground", "the program to go on after ^Z");
        // Its deputy waits in its pause loop; stopped, it would be in a tracing stop (and the shell at home would see it so).
        Poll.Until(() => ProcFs.ReadStat(python).State == 'S', TimeSpan.FromSeconds(20), "the deputy to be left running by a caught ^Z");
        var sleeper = 0;
        Poll.Until(() => (sleeper = Find($"sleep {seconds}")) > 0, TimeSpan.FromSeconds(20), "the program's foreground job");
        using var sleeperFd = Linux.PidFd.Open(sleeper);

        Signals.Kill(python, Signals.SIGINT);
        terminal.Shows(l => l == "got SIGINT", "a SIGINT sent to the process at home to reach the moved program");
        Assert.True(sleeperFd.Exists, "a SIGINT sent to the process must not reach its terminal's foreground job");
        terminal.Key("C-c");
        terminal.Shows(l => l.EndsWith("child ended by signal 2", StringComparison.Ordinal), "^C at home to end the moved program's foreground job");
        terminal.Shows(l => l == "pending False", "^C to reach the foreground job only");
        terminal.Shows(l => l == "EXITED 0", "the program to end with status 0");
    }

    /// <summary>The `sleep SECONDS` the moved shell runs (in one lab every node sees every PID), once its group is its
    /// terminal's foreground group there.</summary>
    private static int ForegroundSleep(string seconds)
    {
        var pid = 0;
        Poll.Until(() =>
        {
            pid = Find($"sleep {seconds}");
            return pid > 0 && Directory.Exists($"/proc/{pid}") && ProcFs.ReadStat(pid) is var stat && stat.Number(8) == stat.Number(5);
        }, TimeSpan.FromSeconds(20), $"sleep {seconds} to hold the moved shell's terminal");
        return pid;
    }

    /// <summary>The one process whose command line is <paramref name="commandLine"/>, or 0.</summary>
    private static int Find(string commandLine)
    {
        var found = CommandRun.Run("pgrep", ["-x", "-f", commandLine]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return found.Length == 1 ? int.Parse(found[0], System.Globalization.CultureInfo.InvariantCulture) : 0;
    }
}
