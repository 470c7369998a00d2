using OpenMosix.TestSupport;

namespace OpenMosix.Linux.Tests;

/// <summary>
/// A PID reaped is handed out again at once when a restorer rewinds the allocator (ns_last_pid), as tests beside
/// these do: a handle taken before must tell the ended process from the later one (root: PidRecycling).
/// </summary>
public sealed class PidFdTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_pidfd_says_its_process_is_gone_while_a_later_process_has_its_pid()
    {
        using var first = ChildProcess.Start("/bin/sleep", ["1000"]);
        using var handle = PidFd.Open(first.Pid);
        Assert.True(handle.Exists);
        Assert.False(handle.HasEnded);

        first.Kill();
        Poll.Until(() => handle.HasEnded, Patience, "the killed child to end");
        Assert.True(handle.Exists, "a zombie not yet reaped is still there");
        first.WaitForExit(Patience);
        Assert.False(handle.Exists);

        using var second = PidRecycling.StartAs(first.Pid, "/bin/sleep", ["1000"]);
        Assert.True(Signals.Exists(first.Pid), "the PID names the later process");
        Assert.False(handle.Exists);
        Assert.False(handle.TrySendSignal(Signals.SIGKILL));
        Assert.False(second.HasExited);
    }

    [Fact]
    public void Disposing_a_child_reaped_elsewhere_leaves_the_later_process_with_its_pid_alone()
    {
        var first = ChildProcess.Start("/bin/sleep", ["1000"]);
        Signals.Kill(first.Pid, Signals.SIGKILL);
        // Reaped behind the helper's back, as an engine reaps a process it froze and killed.
        Assert.True(Waiting.WaitPid(first.Pid).Signaled);
        using var second = PidRecycling.StartAs(first.Pid, "/bin/sleep", ["1000"]);

        Assert.True(first.HasExited, "the first child is known to have ended");
        Assert.False(first.Exists);
        first.Dispose();

        Assert.False(second.HasExited, "disposing the reaped child killed the process that got its PID");
        second.Kill();
        Assert.Equal(new ChildExit(0, Signals.SIGKILL), second.WaitForExit(Patience));
    }
}
