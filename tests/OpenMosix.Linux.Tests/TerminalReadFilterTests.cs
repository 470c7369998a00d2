using OpenMosix.Linux.Seccomp;
using OpenMosix.TestSupport;
using static OpenMosix.Linux.Tests.ForwardingFilterTests;

namespace OpenMosix.Linux.Tests;

/// <summary>
/// The forwarding filter of a process with a terminal hands read and readv of its terminal's numbers to the supervisor
/// (omd answers them EIO, stops the process with SIGTTIN, or lets the kernel run them, as home's terminal says);
/// writes and ioctls on those numbers, and reads of other local descriptors, run without it, and a forwarded number's
/// calls still reach it.
/// </summary>
public sealed class TerminalReadFilterTests
{
    private const string Child = FilteredPython.Preamble + """
        master, slave = os.openpty()
        os.dup2(slave, 9)
        r, w = os.pipe()
        os.write(master, b"typed\n")
        os.write(w, b"piped")
        install_filter()
        sys.stdin.readline()
        print("pipe", os.read(r, 10).decode(), flush=True)
        print("write", os.write(9, b"out\n"), flush=True)
        print("isatty", os.isatty(9), flush=True)
        print("read", os.read(9, 100).decode().strip(), flush=True)
        os.write(master, b"again\n")
        try:
            os.readv(9, [bytearray(100)])
        except OSError as e:
            print("readv", e.errno, flush=True)
        try:
            os.read(7, 10)
        except OSError as e:
            print("forwarded", e.errno, flush=True)
        """;

    [Fact]
    public void Reads_of_the_terminals_numbers_reach_the_supervisor_and_its_writes_ioctls_and_other_reads_do_not()
    {
        using var child = StartFiltered(Child, ForwardingFilter.Build([7], reservedFrom: 100, childCalls: true, terminalGroups: true, terminalReads: [9]));
        try
        {
            using var listener = TakeListener(child);
            // Neither the pipe's read, nor the terminal's write, nor its ioctl (isatty: TCGETS) waits for the supervisor.
            Assert.Equal("pipe piped", ReadLine(child));
            Assert.Equal("write 4", ReadLine(child));
            Assert.Equal("isatty True", ReadLine(child));
            var read = Next(listener);
            Assert.Equal((SyscallNr.Read, 9UL), (read.Nr, read.Args[0]));
            Assert.True(SeccompListener.Continue(listener, read.Id));
            Assert.Equal("read typed", ReadLine(child));
            var readv = Next(listener);
            Assert.Equal((SyscallNr.Readv, 9UL), (readv.Nr, readv.Args[0]));
            Assert.True(SeccompListener.Answer(listener, readv.Id, -(long)Errno.EIO));
            Assert.Equal($"readv {(int)Errno.EIO}", ReadLine(child));
            var forwarded = Next(listener);
            Assert.Equal((SyscallNr.Read, 7UL), (forwarded.Nr, forwarded.Args[0]));
            Assert.True(SeccompListener.Answer(listener, forwarded.Id, -(long)Errno.ENOTCONN));
            Assert.Equal($"forwarded {(int)Errno.ENOTCONN}", ReadLine(child));
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Equal(0, child.ExitCode);
        }
        finally
        {
            if (!child.HasExited) child.Kill();
        }
    }

    [Fact]
    public void Without_terminal_reads_a_read_of_the_terminal_runs_without_the_supervisor()
    {
        const string Plain = FilteredPython.Preamble + """
            master, slave = os.openpty()
            os.dup2(slave, 9)
            os.write(master, b"typed\n")
            install_filter()
            sys.stdin.readline()
            print("read", os.read(9, 100).decode().strip(), flush=True)
            """;
        using var child = StartFiltered(Plain, ForwardingFilter.Build([7], reservedFrom: 100, childCalls: true, terminalGroups: true));
        try
        {
            using var listener = TakeListener(child);
            Assert.Equal("read typed", ReadLine(child));
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Equal(0, child.ExitCode);
        }
        finally
        {
            if (!child.HasExited) child.Kill();
        }
    }
}
