using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;
using static OpenMosix.Lab.Tests.NodeFailureLabTests;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A shell's job moved to node 2 when node 2 crashes: the shell, at home, must see its child end as it would have
/// (killed, or its real status once restarted from a checkpoint) and nothing of the child may stay at home. Each test
/// gets a lab of its own, since it kills a node; a class apart from NodeFailureLabTests so that they run side by side.
/// </summary>
public sealed class ChildOnACrashedNodeLabTests
{
    /// <summary>Without periodic checkpoints there is nothing to restart the child from: it is lost.</summary>
    [Fact]
    public void When_the_node_running_a_child_dies_its_parent_at_home_sees_it_killed_by_sigkill_and_nothing_of_it_is_left()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance", "--checkpoint-interval", "0");
        using var shell = Start(lab, "bash", "-c", $"{TestPrograms.Locate("sleeper")} 400 50 > /dev/null & wait $!; echo \"child $?\"");
        lab.ExplainingFailure(() =>
        {
            var (child, childFd) = MovedChild(lab, shell.Pid);
            using var _ = childFd;
            Crash(lab);
            Assert.Equal(new ChildExit(0, 0), shell.Process.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Equal(["child 137"], shell.Lines());
            lab.WaitForDaemonLog(1, $"process {child} lost: node 2 is gone");
            NothingLeftAtHome(lab, shell.Pid, childFd);
        });
    }

    /// <summary>With them, home restarts the child in its deputy from the last one: it stays the shell's child and its
    /// end is its own.</summary>
    [Fact]
    public void When_the_node_running_a_checkpointed_child_dies_it_is_restarted_at_home_and_its_parent_gets_its_real_status()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        // The child ticks until SIGUSR1 (sent once it is restarted), then exits 0: a status only the restarted process can give.
        using var shell = Start(lab, "bash", "-c", $"{TestPrograms.Locate("memticker")} 16 usr1 50 > /dev/null & wait $!; echo \"child $?\"");
        lab.ExplainingFailure(() =>
        {
            var (child, childFd) = MovedChild(lab, shell.Pid);
            using var _ = childFd;
            CheckpointRestartLabTests.WaitForCheckpoints(lab, child);
            Crash(lab);
            lab.WaitForDaemonLog(1, $"process {child} restarted here from checkpoint", CheckpointRestartLabTests.RestartBound + TimeSpan.FromSeconds(10));
            childFd.SendSignal(Linux.Signals.SIGUSR1);
            Assert.Equal(new ChildExit(0, 0), shell.Process.WaitForExit(TimeSpan.FromSeconds(90)));
            Assert.Equal(["child 0"], shell.Lines());
            NothingLeftAtHome(lab, shell.Pid, childFd);
        });
    }

    /// <summary>
    /// Node 2 crashes as `om lab kill` makes it (its bridge port down first, then its processes killed): home hears
    /// nothing more, and gives the link up after gossip's dead_after or the link timeout and a heartbeat, the bound
    /// RestartBound asserts. Killing its processes with its network up (NodeFailureLabTests.CrashNode) is another
    /// fault: home sees the link close on a node that is up, takes it for the copy's omd killed, and waits the takeover
    /// window (30 s) for a new omd there before it restarts or loses the child (docs/reliability.md).
    /// </summary>
    private static void Crash(TestLab lab) => CheckpointRestartLabTests.Fault(lab, "kill").Succeeded();

    /// <summary>The shell's one job, once managed, moved to node 2; with a pidfd on it (taken while it runs: the
    /// restart at home is made in its deputy, the same process), since once the shell has reaped it its PID may name
    /// another process at once.</summary>
    private static (int Pid, Linux.PidFd Handle) MovedChild(TestLab lab, int shell)
    {
        Poll.Until(() => lab.Processes(1).Processes.Any(p => p.ParentPid == shell), TimeSpan.FromSeconds(20), "the child to be managed");
        var child = lab.Processes(1).Processes.Single(p => p.ParentPid == shell).Pid;
        var handle = Linux.PidFd.Open(child);
        try
        {
            lab.Exec(1, Om.Path, "migrate", $"{child}", "2").Succeeded();
            return (child, handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>No deputy, entry or zombie of the child at home once its parent has reaped it. (Children of the shell
    /// are not looked for by its PID: the test has reaped it, so the kernel gave any to init and the PID may be
    /// another process's.)</summary>
    private static void NothingLeftAtHome(TestLab lab, int shell, Linux.PidFd child)
    {
        Poll.Until(() => !lab.Processes(1).Processes.Any(p => p.Pid == child.Pid || p.Pid == shell), TimeSpan.FromSeconds(10),
            "home to forget the shell and its child");
        Assert.False(child.Exists, $"process {child.Pid} is still there (a deputy or a zombie)");
    }
}
