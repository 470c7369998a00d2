using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Lab.Tests.Support.TakenOverCopies;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// The other side of the guest takeover (GuestTakeoverLabTests): a copy whose node's omd stays dead is kept stopped
/// by its keeper for the takeover window (30 s), then killed, and home restarts the process from its checkpoint. The
/// longest lab test (the window and a restart): a class of its own so that it runs beside others. The program ticks
/// until the test ends it: with 1,200 ticks it ran a minute, most of it waited out after the restart.
/// </summary>
public sealed class TakeoverWindowLabTests
{
    [Fact]
    public void A_copy_whose_omd_stays_down_past_the_takeover_window_is_killed_there_and_restarted_at_home_from_its_checkpoint()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = MovedToNode2(lab, "usr1");
        CheckpointRestartLabTests.WaitForCheckpoints(lab, run.Pid);
        var copy = Copy(lab, run.Pid);
        using var copyFd = Linux.PidFd.Open(copy);

        var omd = lab.ReadStatus().Nodes.Single(n => n.Id == 2).DaemonPid!.Value;
        Signals.Kill(omd, Signals.SIGKILL);
        lab.WaitForDaemonLog(1, $"process {run.Pid}: the link with node 2 closed");
        // Within the window the copy waits stopped: it writes nothing that a restart would write again.
        Poll.Until(() => !copyFd.Exists || Watched.State(copyFd) is 'T' or 't', TimeSpan.FromSeconds(5), "the copy to be stopped by its keeper");
        lab.WaitForDaemonLog(1, $"process {run.Pid} restarted here from checkpoint", TimeSpan.FromSeconds(75));
        Assert.True(!copyFd.Exists || Watched.State(copyFd) is 'T' or 't' or 'Z', "the copy ran on node 2 when home restarted the process");
        Poll.Until(() => !copyFd.Exists, TimeSpan.FromSeconds(15), "the keeper to kill the copy");
        Om.Run(["lab", "restart", "--name", lab.Name, "2"]).Succeeded();

        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
    }
}
