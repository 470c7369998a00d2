using OpenMosix.Linux.Seccomp;
using OpenMosix.TestSupport;
using static OpenMosix.Linux.Tests.ForwardingFilterTests;

namespace OpenMosix.Linux.Tests;

/// <summary>
/// The forwarding filter of a process with a terminal hands the requests that change a terminal (the ones the kernel
/// checks with tty_check_change: tcsetattr, tcflush, tcdrain...) to the supervisor, whatever the descriptor, and with
/// terminal writes (home's terminal had TOSTOP) also write and writev of the terminal's numbers: omd stops the process
/// with SIGTTOU while home's terminal has it in the background. Reading the modes and writing other descriptors run
/// without it.
/// </summary>
public sealed class TerminalChangeFilterTests
{
    private const string Child = FilteredPython.Preamble + """
        import termios
        master, slave = os.openpty()
        os.dup2(slave, 9)
        r, w = os.pipe()
        install_filter()
        sys.stdin.readline()
        modes = termios.tcgetattr(9)
        print("get ok", flush=True)
        termios.tcsetattr(9, termios.TCSADRAIN, modes)
        print("set ok", flush=True)
        termios.tcflush(9, termios.TCIFLUSH)
        print("flush ok", flush=True)
        print("pipe", os.write(w, b"abc"), flush=True)
        print("write", os.write(9, b"out\n"), flush=True)
        print("writev", os.writev(9, [b"o", b"ut\n"]), flush=True)
        """;

    [Fact]
    public void Tcsetattr_and_tcflush_reach_the_supervisor_and_with_terminal_writes_so_do_writes_of_the_terminal()
    {
        using var child = StartFiltered(Child, ForwardingFilter.Build([7], reservedFrom: 100, childCalls: true, terminalGroups: true, terminalReads: [9],
            terminalWrites: true));
        try
        {
            using var listener = TakeListener(child);
            // tcgetattr (TCGETS) runs without the supervisor.
            Assert.Equal("get ok", ReadLine(child));
            var set = Next(listener);
            Assert.Equal((SyscallNr.Ioctl, 9UL, 0x5403UL), (set.Nr, set.Args[0], set.Args[1])); // TCSETSW
            Assert.True(SeccompListener.Continue(listener, set.Id));
            Assert.Equal("set ok", ReadLine(child));
            var flush = Next(listener);
            Assert.Equal((SyscallNr.Ioctl, 9UL, 0x540BUL), (flush.Nr, flush.Args[0], flush.Args[1])); // TCFLSH
            Assert.True(SeccompListener.Continue(listener, flush.Id));
            Assert.Equal("flush ok", ReadLine(child));
            Assert.Equal("pipe 3", ReadLine(child));
            var write = Next(listener);
            Assert.Equal((SyscallNr.Write, 9UL), (write.Nr, write.Args[0]));
            Assert.True(SeccompListener.Continue(listener, write.Id));
            Assert.Equal("write 4", ReadLine(child));
            var writev = Next(listener);
            Assert.Equal((SyscallNr.Writev, 9UL), (writev.Nr, writev.Args[0]));
            Assert.True(SeccompListener.Answer(listener, writev.Id, -(long)Errno.EIO));
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(20)));
            // The answer is the program's: EIO ends it with an OSError.
            Assert.NotEqual(0, child.ExitCode);
        }
        finally
        {
            if (!child.HasExited) child.Kill();
        }
    }

    [Fact]
    public void Without_terminal_writes_writes_of_the_terminal_run_without_the_supervisor()
    {
        using var child = StartFiltered(Child, ForwardingFilter.Build([7], reservedFrom: 100, childCalls: true, terminalGroups: true, terminalReads: [9]));
        try
        {
            using var listener = TakeListener(child);
            Assert.Equal("get ok", ReadLine(child));
            Assert.True(SeccompListener.Continue(listener, Next(listener).Id));
            Assert.Equal("set ok", ReadLine(child));
            Assert.True(SeccompListener.Continue(listener, Next(listener).Id));
            Assert.Equal("flush ok", ReadLine(child));
            Assert.Equal("pipe 3", ReadLine(child));
            Assert.Equal("write 4", ReadLine(child));
            Assert.Equal("writev 4", ReadLine(child));
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Equal(0, child.ExitCode);
        }
        finally
        {
            if (!child.HasExited) child.Kill();
        }
    }
}
