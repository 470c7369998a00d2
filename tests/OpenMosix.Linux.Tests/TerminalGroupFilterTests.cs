using System.Buffers.Binary;
using OpenMosix.Linux.Seccomp;
using OpenMosix.TestSupport;
using static OpenMosix.Linux.Tests.ForwardingFilterTests;

namespace OpenMosix.Linux.Tests;

/// <summary>
/// The forwarding filter of a process with a terminal hands every tcsetpgrp (ioctl TIOCSPGRP) to the supervisor,
/// whatever the descriptor, with the group in the caller's memory (omd turns home's number of the copy's group into
/// its number on the node); every other ioctl on a descriptor that is not forwarded runs without it.
/// </summary>
public sealed class TerminalGroupFilterTests
{
    private const string Child = FilteredPython.Preamble + """
        import fcntl, struct, termios
        master, slave = os.openpty()
        install_filter()
        sys.stdin.readline()
        try:
            fcntl.ioctl(slave, termios.TIOCSPGRP, struct.pack("i", 4242))
            print("set ok", flush=True)
        except OSError as e:
            print("set", e.errno, flush=True)
        try:
            fcntl.ioctl(slave, termios.TIOCGPGRP, b"\0" * 4)
            print("get ok", flush=True)
        except OSError as e:
            print("get", e.errno, flush=True)
        try:
            print("forwarded", len(fcntl.ioctl(7, termios.FIONREAD, b"\0" * 4)), flush=True)
        except OSError as e:
            print("forwarded", e.errno, flush=True)
        """;

    [Fact]
    public void Tcsetpgrp_on_any_terminal_reaches_the_supervisor_with_its_group_and_tcgetpgrp_runs_without_it()
    {
        using var child = StartFiltered(Child, ForwardingFilter.Build([7], reservedFrom: 100, childCalls: true, terminalGroups: true));
        try
        {
            using var listener = TakeListener(child);
            var set = Next(listener);
            Assert.Equal((SyscallNr.Ioctl, (ulong)ForwardingFilter.SetForegroundGroup), (set.Nr, set.Args[1]));
            Span<byte> group = stackalloc byte[4];
            ProcessMemory.Read(child.Id, set.Args[2], group);
            Assert.Equal(4242, BinaryPrimitives.ReadInt32LittleEndian(group));
            Assert.True(SeccompListener.Answer(listener, set.Id, 0));
            Assert.Equal("set ok", ReadLine(child));
            // TIOCGPGRP on a terminal that is not the child's controlling terminal: the kernel's own answer.
            Assert.Equal($"get {(int)Errno.ENOTTY}", ReadLine(child));
            // Any other ioctl on a forwarded number still reaches the supervisor.
            var forwarded = Next(listener);
            Assert.Equal((SyscallNr.Ioctl, 7UL), (forwarded.Nr, forwarded.Args[0]));
            Assert.True(SeccompListener.Answer(listener, forwarded.Id, 0));
            Assert.Equal("forwarded 4", ReadLine(child));
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Equal(0, child.ExitCode);
        }
        finally
        {
            if (!child.HasExited) child.Kill();
        }
    }

    [Fact]
    public void Without_terminal_groups_tcsetpgrp_runs_without_the_supervisor()
    {
        using var child = StartFiltered(Child,
            ForwardingFilter.Build([7], reservedFrom: 100, childCalls: true));
        try
        {
            using var listener = TakeListener(child);
            Assert.Equal($"set {(int)Errno.ENOTTY}", ReadLine(child));
            Assert.Equal($"get {(int)Errno.ENOTTY}", ReadLine(child));
            var forwarded = Next(listener);
            Assert.Equal((SyscallNr.Ioctl, 7UL), (forwarded.Nr, forwarded.Args[0]));
            Assert.True(SeccompListener.Answer(listener, forwarded.Id, 0));
            Assert.Equal("forwarded 4", ReadLine(child));
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            if (!child.HasExited) child.Kill();
        }
    }
}
