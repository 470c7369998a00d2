using OpenMosix.Checkpoint.Tracing;
using OpenMosix.Linux;

namespace OpenMosix.Checkpoint.Tests.Tracing;

public sealed class ReapedExitsTests
{
    // PIDs far above pid_max's default, so that no real process of this test run shares them.
    private const int Pid = 4_000_001;

    [Fact]
    public void An_end_a_trace_took_from_the_kernel_is_handed_to_one_exit_watch_only()
    {
        _ = new TraceeGoneException(Pid, new WaitStatus(3 << 8));

        Assert.True(ReapedExits.TryTake(Pid, out var status));
        Assert.True(status.Exited);
        Assert.Equal(3, status.ExitCode);
        Assert.False(ReapedExits.TryTake(Pid, out _));
    }

    [Fact]
    public void A_killing_signal_is_kept_as_such()
    {
        _ = new TraceeGoneException(Pid + 1, new WaitStatus(9));

        Assert.True(ReapedExits.TryTake(Pid + 1, out var status));
        Assert.False(status.Exited);
        Assert.Equal(9, status.TermSignal);
    }

    [Fact]
    public void A_new_watch_for_the_same_number_does_not_get_an_earlier_processs_end()
    {
        _ = new TraceeGoneException(Pid + 2, new WaitStatus(0));
        ReapedExits.Forget(Pid + 2);

        Assert.False(ReapedExits.TryTake(Pid + 2, out _));
    }

    [Fact]
    public void A_process_found_gone_without_a_status_leaves_nothing_to_hand_on()
    {
        _ = new TraceeGoneException(Pid + 3, "process ended while its trace was let go");

        Assert.False(ReapedExits.TryTake(Pid + 3, out _));
    }
}
