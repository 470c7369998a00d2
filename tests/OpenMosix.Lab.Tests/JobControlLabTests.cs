using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// An interactive shell's job control with its jobs on other nodes (tmux plays the user's terminal at home): the
/// jobs are the deputies at home, in the process groups the shell made, so `jobs`, `kill %N`, ^Z, `bg`, `fg` and ^C
/// act on them as on local jobs, and the signals reach the copies.
/// </summary>
[Collection(ForkLab.ShellsCollection)]
public sealed class JobControlLabTests(ForkLab fixture)
{
    private TestLab Lab => fixture.Lab;

    [Fact]
    public void Jobs_kill_percent_ctrl_z_bg_fg_and_ctrl_c_work_on_jobs_running_on_other_nodes()
    {
        var spinner = TestPrograms.Locate("spinner");
        var session = $"om{Guid.NewGuid():N}"[..12];
        List<string> Lines() => [.. CommandRun.Run("tmux", ["-L", session, "capture-pane", "-t", session, "-p", "-S", "-200"]).Stdout.Split('\n').Select(l => l.TrimEnd())];
        void Type(string line) => CommandRun.Run("tmux", ["-L", session, "send-keys", "-t", session, line, "Enter"]);
        void Key(string key) => CommandRun.Run("tmux", ["-L", session, "send-keys", "-t", session, key]);
        void Shows(Func<string, bool> line, string what)
        {
            try
            {
                Poll.Until(() => Lines().Any(line), TimeSpan.FromSeconds(30), what);
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}; the terminal shows:\n{string.Join('\n', Lines().Where(l => l.Length > 0).TakeLast(12))}", e);
            }
        }
        var started = CommandRun.Run("tmux", ["-L", session, "new-session", "-d", "-s", session, "-x", "150", "-y", "50",
            $"{Om.Path} lab exec --name {Lab.Name} 1 -- {Om.Path} run /bin/bash --norc --noprofile -i; echo EXITED $?; sleep 60"]);
        Assert.True(started.ExitCode == 0, started.ToString());
        try
        {
            Type("PS1='ready> '");
            Shows(l => l == "ready>", "the shell's prompt");
            var shell = Lab.Processes(1).Processes.Single(p => p.Command.Contains("bash --norc", StringComparison.Ordinal) && p.ParentPid == 0).Pid;
            IReadOnlyList<ProcessRow> Jobs() => [.. Lab.Processes(1).Processes.Where(p => p.ParentPid == shell && p.Command.Contains("spinner", StringComparison.Ordinal))];
            for (var i = 0; i < 3; i++) Type($"{spinner} 300 > /dev/null &");
            Poll.Until(() => Jobs() is { Count: 3 } jobs && jobs.All(j => j.State is "home" or "remote") && jobs.Select(j => j.Where).Distinct().Count() == 3,
                TimeSpan.FromSeconds(40), "the three background jobs to run on three nodes");

            Type("kill %1; wait %1; echo killed $?");
            Shows(l => l == "killed 143", "kill %1 to end job 1 by SIGTERM");
            Type("jobs");
            Shows(l => l.StartsWith("[2]", StringComparison.Ordinal) && l.Contains("Running", StringComparison.Ordinal), "jobs to list job 2 running");

            var background = Jobs().Select(j => j.Pid).ToHashSet();
            Type($"{spinner} 300 > /dev/null");
            Poll.Until(() => Jobs().Count == 3, TimeSpan.FromSeconds(20), "the foreground job to be managed");
            var foreground = Jobs().Single(j => !background.Contains(j.Pid)).Pid;
            using var foregroundFd = Linux.PidFd.Open(foreground);
            // Placed away at once if node 1 is busy; moved by hand if not: ^Z and ^C must reach a copy on another node.
            Poll.Until(() => Jobs().Single(j => j.Pid == foreground).State is "home" or "remote", TimeSpan.FromSeconds(20), "its placement to end");
            // "home" may also be the instant before the balancer's own move starts: then that move takes it away.
            if (Jobs().Single(j => j.Pid == foreground).State == "home"
                && Lab.Exec(1, Om.Path, "migrate", $"{foreground}", "2") is { ExitCode: not 0 } refused)
                Assert.Contains("is migrating", refused.Stderr, StringComparison.Ordinal);
            Poll.Until(() => Jobs().Single(j => j.Pid == foreground).State == "remote", TimeSpan.FromSeconds(20), "the foreground job to run away");
            Key("C-z");
            Shows(l => l.Contains("Stopped", StringComparison.Ordinal), "^Z to stop the foreground job");
            Type("bg");
            Type("jobs %4");
            Shows(l => l.StartsWith("[4]", StringComparison.Ordinal) && l.Contains("Running", StringComparison.Ordinal), "bg to resume job 4");
            Type("fg %4");
            // ^C must reach the job: only once fg has made its group the terminal's foreground group (stat's tpgid).
            Poll.Until(() => (int)ProcFs.ReadStat(shell).Number(8) == foreground, TimeSpan.FromSeconds(10), "fg to give job 4 the terminal");
            Key("C-c");
            // As a user would, the next command is typed at the prompt: keys typed while the job still holds the
            // terminal are the job's (the relay sends them to the copy).
            Poll.Until(() => !foregroundFd.Exists, TimeSpan.FromSeconds(20), "^C to end the foreground job");
            Type("echo status $?");
            Shows(l => l == "status 130", "^C to end the foreground job by SIGINT");

            Type("kill %2 %3; wait; exit 7");
            Shows(l => l == "EXITED 7", "the shell to exit after its last jobs ended");
            Poll.Until(() => Jobs().Count == 0, TimeSpan.FromSeconds(20), "no job or deputy left");
        }
        finally
        {
            CommandRun.Run("tmux", ["-L", session, "kill-session", "-t", session]);
        }
    }
}
