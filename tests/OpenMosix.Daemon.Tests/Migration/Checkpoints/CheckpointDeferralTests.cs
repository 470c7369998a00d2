using OpenMosix.Daemon.Migration.Checkpoints;

namespace OpenMosix.Daemon.Tests.Migration.Checkpoints;

public sealed class CheckpointDeferralTests
{
    private const ulong MiB = 1 << 20;
    private const double Usher = 0.10;
    private static readonly NodeMemory Roomy = new(1024 * MiB, 600 * MiB);

    [Fact]
    public void A_checkpoint_is_taken_on_a_node_with_room_for_its_image()
    {
        Assert.Null(CheckpointDeferral.Reason(Roomy, 100 * (long)MiB, Usher));
    }

    [Fact]
    public void A_checkpoint_whose_image_would_leave_its_node_below_the_ushering_threshold_waits_and_a_small_one_does_not()
    {
        // 200 MiB free, 150 MiB image: 50 MiB left, under a tenth of 1 GiB.
        var tight = new NodeMemory(1024 * MiB, 200 * MiB);

        Assert.Equal("this node is short of memory (200 MiB free, the image needs about 150 MiB)", CheckpointDeferral.Reason(tight, 150 * (long)MiB, Usher));
        Assert.Null(CheckpointDeferral.Reason(tight, 50 * (long)MiB, Usher));
    }

    [Fact]
    public void Home_says_wait_while_it_moves_processes_out_and_for_a_while_after_the_last()
    {
        Assert.Equal("home is moving 2 processes out", CheckpointDeferral.HomeBusy(Roomy, 2, null, Usher));
        Assert.Equal("home is moving 1 process out", CheckpointDeferral.HomeBusy(Roomy, 1, TimeSpan.FromMinutes(1), Usher));
        Assert.Equal("home moved a process out 2.0 s ago", CheckpointDeferral.HomeBusy(Roomy, 0, TimeSpan.FromSeconds(2), Usher));
        Assert.Null(CheckpointDeferral.HomeBusy(Roomy, 0, CheckpointDeferral.MoveOutLinger, Usher));
    }

    [Fact]
    public void Home_says_wait_while_near_its_ushering_threshold_and_go_otherwise()
    {
        // 240 MiB of 1 GiB free: within 15 % above the tenth ushering keeps free.
        Assert.Equal("home is short of memory (240 MiB of 1024 MiB free)", CheckpointDeferral.HomeBusy(new NodeMemory(1024 * MiB, 240 * MiB), 0, null, Usher));
        Assert.Null(CheckpointDeferral.HomeBusy(Roomy, 0, null, Usher));
        Assert.Null(CheckpointDeferral.HomeBusy(null, 0, null, Usher));
    }
}
