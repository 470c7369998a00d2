using OpenMosix.Checkpoint.Tracing;
using OpenMosix.Linux;

namespace OpenMosix.Checkpoint.Tests.Tracing;

/// <summary>The registers of a process stopped inside an interrupted call, rewritten so that the call goes on.</summary>
public sealed class SyscallRestartTests
{
    private const ulong Poll = 7, EpollWait = 232, Nanosleep = 35, RestartSyscall = 219, Read = 0, Write = 1;

    private static UserRegs Interrupted(ulong call, long restart) => new() { orig_rax = call, rax = unchecked((ulong)restart), rip = 0x1000 };

    [Theory]
    [InlineData(Poll)]
    [InlineData(EpollWait)]
    public void A_readiness_wait_interrupted_with_a_restart_block_is_made_again_even_in_its_own_process(ulong call)
    {
        // Through restart_syscall, a second stop before it ran (the freeze after a pre-copy's set-up) left the process
        // inside restart_syscall, and its copy's poll failed with EINTR.
        var fixedRegs = SyscallRestart.Fix(Interrupted(call, -516), sameProcess: true);
        Assert.Equal(call, fixedRegs.rax);
        Assert.Equal(0x1000UL - 2, fixedRegs.rip);
        Assert.Equal(ulong.MaxValue, fixedRegs.orig_rax);
    }

    [Fact]
    public void An_interrupted_sleep_continues_through_restart_syscall_in_its_own_process_and_starts_again_in_a_new_one()
    {
        Assert.Equal(RestartSyscall, SyscallRestart.Fix(Interrupted(Nanosleep, -516), sameProcess: true).rax);
        Assert.Equal(Nanosleep, SyscallRestart.Fix(Interrupted(Nanosleep, -516), sameProcess: false).rax);
    }

    [Fact]
    public void A_call_that_finished_is_left_as_it_returned()
    {
        var fixedRegs = SyscallRestart.Fix(new UserRegs { orig_rax = Read, rax = 42, rip = 0x1000 }, sameProcess: false);
        Assert.Equal(42UL, fixedRegs.rax);
        Assert.Equal(0x1000UL, fixedRegs.rip);
    }

    [Fact]
    public void An_interrupted_call_carried_out_elsewhere_is_recorded_as_returned_and_not_made_again()
    {
        // A forwarded write home wrote, its answer undelivered: made again at home it was written twice.
        var image = SyscallRestart.ForImage(Interrupted(Write, -512), carriedOut: 6);
        Assert.Equal(6UL, image.rax);
        Assert.Equal(0x1000UL, image.rip);
        Assert.Equal(ulong.MaxValue, image.orig_rax);
    }

    [Fact]
    public void An_interrupted_call_not_carried_out_is_made_again_in_the_image()
    {
        var image = SyscallRestart.ForImage(Interrupted(Write, -512), carriedOut: null);
        Assert.Equal(Write, image.rax);
        Assert.Equal(0x1000UL - 2, image.rip);
    }

    [Fact]
    public void Only_a_thread_stopped_inside_an_interrupted_call_has_a_call_to_ask_about()
    {
        var call = SyscallRestart.CallOf(7, Interrupted(Write, -512) with { rdi = 8, rsi = 0x2000, rdx = 6 });
        Assert.Equal(new ulong[] { 8, 0x2000, 6, 0, 0, 0 }, call!.Arguments);
        Assert.Equal((long)Write, call.Number);
        Assert.Null(SyscallRestart.CallOf(7, new UserRegs { orig_rax = Write, rax = 6 }));
        Assert.Null(SyscallRestart.CallOf(7, new UserRegs { orig_rax = ulong.MaxValue, rax = unchecked((ulong)-512) }));
    }
}
