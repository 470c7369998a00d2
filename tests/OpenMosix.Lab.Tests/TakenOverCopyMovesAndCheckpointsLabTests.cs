using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Lab.Tests.Support.TakenOverCopies;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Taken over (GuestTakeoverLabTests), the copy travels and is checkpointed like any other: moved home or on with
/// `om migrate`, and restarted at home from a checkpoint taken after the takeover when its node crashes. A lab of its
/// own for each, since it kills omd.
/// </summary>
public sealed class TakenOverCopyMovesAndCheckpointsLabTests
{
    /// <summary>Its trace for its exit status is let go for the trip and taken again by the copy it leaves, or by
    /// nothing when it comes home: a taken-over copy travels like any other.</summary>
    [Theory]
    [InlineData("home")]
    [InlineData("3")]
    public void A_taken_over_copy_moves_home_or_on_with_om_migrate_and_its_piped_output_is_that_of_an_uninterrupted_run(string target)
    {
        using var lab = TestLab.WithDaemons(target == "home" ? 2 : 3, "--timeout", "15", "--no-balance");
        using var run = MovedToNode2(lab, UntilEnded);
        var copy = TakenOverByANewOmd(lab, run);
        using var copyFd = Linux.PidFd.Open(copy);

        lab.Migrate(1, run.Pid, target);
        var row = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid);
        Assert.Equal(target == "home" ? ("home", 1) : ("remote", 3), (row.State, row.Where));
        Poll.Until(() => !copyFd.Exists, TimeSpan.FromSeconds(10), "the copy left on node 2 to be gone");
        run.WaitForLines(run.Lines().Count + 3);

        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
    }

    [Fact]
    public void A_taken_over_copy_is_checkpointed_periodically_and_restarted_from_such_a_checkpoint_when_its_node_crashes()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance", "--checkpoint-interval", "1000");
        using var run = MovedToNode2(lab, UntilEnded);
        TakenOverByANewOmd(lab, run);
        var stored = Stored(lab, run.Pid);

        // Two more after the takeover: the first whole, the next merged into it.
        Poll.Until(() => Stored(lab, run.Pid) >= stored + 2, TimeSpan.FromSeconds(30), "home to store two checkpoints of the taken-over copy");
        Om.Run(["lab", "kill", "--name", lab.Name, "2"]).Succeeded();
        lab.WaitForDaemonLog(1, $"process {run.Pid} restarted here from checkpoint", TimeSpan.FromSeconds(45));

        Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
        Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
    }
}
