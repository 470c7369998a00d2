using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Linux.Tests;

/// <summary>Whether a process group is orphaned, as the kernel decides whether to discard a terminal stop in it: real
/// sessions made by setsid(1) and a job-control shell.</summary>
public sealed class OrphanedGroupsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>`setsid -w bash -c 'set -m; sleep N & wait'` (forking: the test starts it as a group leader): the shell
    /// leads a session of its own (its parent, setsid, is in the test's), and its job, a sleep, gets a group of its own
    /// in it. Returns setsid, the shell and the sleep.</summary>
    private static (ChildProcess Setsid, int Shell, int Job) StartShellWithAJob(string seconds)
    {
        var setsid = ChildProcess.Start("/usr/bin/setsid", ["-w", "/bin/bash", "-c", $"set -m; /bin/sleep {seconds} & wait"]);
        int shell = 0, job = 0;
        Poll.Until(() => ProcFs.ReadChildren(setsid.Pid) is [var s] && (shell = s) > 0 && ProcFs.ReadChildren(s) is [var child]
            && ProcFs.ReadCommandLine(child).Contains(seconds) && ProcFs.ReadStat(child).ProcessGroup == child && (job = child) > 0,
            Patience, "the shell's job in a group of its own");
        return (setsid, shell, job);
    }

    [Fact]
    public void A_session_leader_whose_parent_is_in_another_session_has_an_orphaned_group()
    {
        var (setsid, shell, job) = StartShellWithAJob("63");
        using (setsid)
        {
            Assert.Equal(shell, ProcFs.ReadStat(shell).Session);
            Assert.True(OrphanedGroups.OfProcess(shell));
            Signals.Kill(job, Signals.SIGKILL);
        }
    }

    [Fact]
    public void A_job_of_a_shell_in_its_session_is_not_orphaned_until_the_shell_is_gone()
    {
        var (setsid, shell, job) = StartShellWithAJob("64");
        using (setsid)
        {
            Assert.False(OrphanedGroups.OfProcess(job));
            Signals.Kill(shell, Signals.SIGKILL);
            // Reparented (to init or a subreaper, outside the session): nobody in the session could continue it.
            Poll.Until(() => ProcFs.ReadStat(job).PPid != shell, Patience, "the job to lose its shell");
            Assert.True(OrphanedGroups.OfProcess(job));
            Signals.Kill(job, Signals.SIGKILL);
        }
    }
}
