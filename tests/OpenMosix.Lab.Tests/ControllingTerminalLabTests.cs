using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A moved program's terminal is its controlling terminal (tmux plays the user's terminal at home): tcgetpgrp,
/// tcsetpgrp, TIOCGSID and /dev/tty answer on the node it runs on, and a moved shell's own job control works there.
/// </summary>
[Collection(MigrationLab.Collection)]
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
    /// differs from home's, which the shell cached at its start: after a foreground job it cannot take the terminal
    /// back there (docs/forwarding.md), so the foreground job comes last.
    /// </summary>
    [Fact]
    public void A_moved_interactive_shell_keeps_its_job_control_jobs_sigttin_and_ctrl_c_to_its_foreground_job()
    {
        using var terminal = TmuxTerminal.Start($"{Om.Path} lab exec --name {_lab.Name} 1 -- {Om.Path} run /bin/bash --norc --noprofile -i; echo EXITED $?; sleep 60");
        terminal.Type("PS1='ready> '");
        terminal.Shows(l => l == "ready>", "the shell's prompt");
        var shell = _lab.Processes(1).Processes.Single(p => p.Command.Contains("bash --norc", StringComparison.Ordinal) && p.ParentPid == 0).Pid;
        _lab.Migrate(1, shell, "2");
        Assert.Equal("remote", _lab.Processes(1).Processes.Single(p => p.Pid == shell).State);

        terminal.Type("echo through dev tty > /dev/tty");
        terminal.Shows(l => l == "through dev tty", "the moved shell to write to /dev/tty");
        // A length no other test's sleep has: the job is found by its command line among every process of the host.
        var seconds = (3000 + Environment.TickCount64 % 6000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        terminal.Type($"sleep {seconds} &");
        terminal.Type("jobs");
        terminal.Shows(l => l.StartsWith("[1]+", StringComparison.Ordinal) && l.Contains("Running", StringComparison.Ordinal) && l.Contains($"sleep {seconds}", StringComparison.Ordinal),
            "jobs to list the background job");
        var reader = $"reader-{Guid.NewGuid():N}"[..15];
        terminal.Type($"(exec -a {reader} cat) &");
        Poll.Until(() => Find(reader) is > 0 and var pid && ProcFs.ReadStat(pid).State == 'T', TimeSpan.FromSeconds(20), "a background job reading the terminal to be stopped");
        terminal.Type("jobs");
        terminal.Shows(l => l.Contains("Stopped", StringComparison.Ordinal) && l.Contains(reader, StringComparison.Ordinal), "the shell to see SIGTTIN stop the job");
        terminal.Type("kill %2; fg %1");
        var sleeper = ForegroundSleep(seconds);
        terminal.Key("C-c");
        Poll.Until(() => !Directory.Exists($"/proc/{sleeper}"), TimeSpan.FromSeconds(20), "^C at home to end the moved shell's foreground job");
        Assert.Equal(0, Find(reader));
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
