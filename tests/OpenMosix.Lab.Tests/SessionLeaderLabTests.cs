using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A job away whose stdio is a terminal is, as at home, a member of a session it does not lead: its end hangs up
/// nothing. At home its shell leads the session; on its node a stand-in does (docs/forwarding.md). Were the copy the
/// leader there, the kernel would send SIGHUP to its terminal's foreground group as it exits (disassociate_ctty),
/// killing what it left running in its own group.
/// </summary>
[Collection(MigrationLab.ForwardingCollection)]
public sealed class SessionLeaderLabTests(MigrationLab fixture)
{
    private const ulong Sighup = 1UL << 0;
    private readonly TestLab _lab = fixture.Lab;

    /// <summary>
    /// The child blocks SIGHUP before it becomes `sleep`, so a hangup would stay pending where /proc shows it instead of
    /// killing it at some later moment: the kernel sends it while the copy exits, before the copy's exit status can
    /// reach home, so once the shell at home printed that status the child's pending set is final for this question.
    /// </summary>
    [Fact]
    public void A_job_away_that_ends_leaves_the_child_it_left_running_in_its_own_group_unhung_up_and_its_session_goes_with_the_child()
    {
        var seconds = (12000 + Environment.TickCount64 % 6000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var script = Path.Combine(_lab.Layout.NodeDirectory(1), $"leaves-child-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, $$"""
            import os, signal, sys
            print("ready", flush=True)
            sys.stdin.readline()
            # The child's exec closes the pipe: the job ends only once its child is `sleep`, with SIGHUP blocked.
            r, w = os.pipe2(os.O_CLOEXEC)
            child = os.fork()
            if child == 0:
                signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGHUP])
                os.execvp("sleep", ["sleep", "{{seconds}}"])
            os.close(w)
            os.read(r, 1)
            print("same group", os.getpgid(child) == os.getpgrp(), flush=True)
            print("foreground", os.tcgetpgrp(0) == os.getpgrp(), flush=True)
            """);
        using var terminal = TmuxTerminal.Start($"{Om.Path} lab exec --name {_lab.Name} 1 -- {Om.Path} run /usr/bin/python3 {script}; echo EXITED $?; sleep 60");
        terminal.Shows(l => l == "ready", "the program to start");
        var python = _lab.Processes(1).Processes.Single(p => p.Command.Contains(script, StringComparison.Ordinal)).Pid;
        _lab.Migrate(1, python, "2");
        Assert.Equal("remote", _lab.Processes(1).Processes.Single(p => p.Pid == python).State);
        terminal.Type("go");
        terminal.Shows(l => l == "same group True", "the child to be in the job's group");
        terminal.Shows(l => l == "foreground True", "the job's group to be its terminal's foreground group");
        terminal.Shows(l => l == "EXITED 0", "the job to end with status 0 while its child runs on");

        var sleeper = Find($"sleep {seconds}");
        Assert.True(sleeper > 0, $"the child `sleep {seconds}` must still run after the job ended");
        // By pidfds: once reaped, their PIDs may name other processes (a kill by PID could hit one).
        using var sleeperFd = Linux.PidFd.Open(sleeper);
        try
        {
            Assert.Equal(0UL, Pending(sleeper) & Sighup);
            var session = ProcFs.ReadStat(sleeper).Session;
            using var leader = Linux.PidFd.Open(session);
            Assert.True(sleeperFd.TrySendSignal(Signals.SIGKILL), $"the child `sleep {seconds}` ended while its session was read");
            // The session's leader here (the stand-in) leaves with the last of its members, reaped: no zombie stays.
            Poll.Until(() => !leader.Exists, TimeSpan.FromSeconds(30), "the session's leader to go once the child is gone");
        }
        finally
        {
            _ = sleeperFd.TrySendSignal(Signals.SIGKILL);
        }
    }

    /// <summary>Signals pending for the process or one of its threads, as /proc shows them (SigPnd | ShdPnd).</summary>
    private static ulong Pending(int pid)
    {
        ulong pending = 0;
        foreach (var line in File.ReadAllLines($"/proc/{pid}/status"))
            if (line.StartsWith("SigPnd:", StringComparison.Ordinal) || line.StartsWith("ShdPnd:", StringComparison.Ordinal))
                pending |= ulong.Parse(line[7..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        return pending;
    }

    /// <summary>The one process whose command line is <paramref name="commandLine"/>, or 0.</summary>
    private static int Find(string commandLine)
    {
        var found = CommandRun.Run("pgrep", ["-x", "-f", commandLine]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return found.Length == 1 ? int.Parse(found[0], System.Globalization.CultureInfo.InvariantCulture) : 0;
    }
}
