using OpenMosix.Linux.Seccomp;
using OpenMosix.TestSupport;
using static OpenMosix.Linux.Tests.ForwardingFilterTests;

namespace OpenMosix.Linux.Tests;

/// <summary>
/// The forwarding filter of a process whose home makes the sockets it creates away: socket of AF_INET and AF_INET6
/// reaches the supervisor, socket of AF_UNIX never does, and connect, bind and listen reach it only on a forwarded
/// number; without socket calls no socket call reaches it at all.
/// </summary>
public sealed class SocketCallFilterTests
{
    private const string Child = FilteredPython.Preamble + """
        import socket
        install_filter()
        sys.stdin.readline()
        u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        u.bind(b"\0om-socket-filter-%d" % os.getpid())
        print("unix", u.fileno() > 2, flush=True)
        for family in (socket.AF_INET, socket.AF_INET6):
            try:
                socket.socket(family, socket.SOCK_STREAM)
                print("inet made", flush=True)
            except OSError as e:
                print("inet", e.errno, flush=True)
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        print("connect", libc.syscall(42, 7, None, 0), flush=True)
        print("listen", libc.syscall(50, u.fileno(), 1), flush=True)
        """;

    [Fact]
    public void Socket_of_the_internet_families_reaches_the_supervisor_and_a_unix_socket_is_made_without_it()
    {
        using var child = StartFiltered(Child, ForwardingFilter.Build([7], reservedFrom: 100, socketCalls: true));
        try
        {
            using var listener = TakeListener(child);
            // AF_UNIX was made without a notification
            Assert.Equal("unix True", ReadLine(child));

            var inet = Next(listener);
            Assert.Equal((SyscallNr.Socket, 2UL), (inet.Nr, inet.Args[0] & 0xffffffff));
            Assert.True(SeccompListener.Answer(listener, inet.Id, -(long)Errno.EACCES));
            Assert.Equal($"inet {(int)Errno.EACCES}", ReadLine(child));

            var inet6 = Next(listener);
            Assert.Equal((SyscallNr.Socket, 10UL), (inet6.Nr, inet6.Args[0] & 0xffffffff));
            Assert.True(SeccompListener.Continue(listener, inet6.Id));
            Assert.Equal("inet made", ReadLine(child));

            var connect = Next(listener);
            Assert.Equal((SyscallNr.Connect, 7UL), (connect.Nr, connect.Args[0]));
            Assert.True(SeccompListener.Answer(listener, connect.Id, 0));
            Assert.Equal("connect 0", ReadLine(child));
            // listen on the program's own unix socket: the kernel's, no notification
            Assert.Equal("listen 0", ReadLine(child));
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Equal(0, child.ExitCode);
        }
        finally
        {
            if (!child.HasExited) child.Kill();
        }
    }

    [Fact]
    public void Without_socket_calls_an_internet_socket_is_made_without_the_supervisor()
    {
        using var child = StartFiltered(Child, ForwardingFilter.Build([7], reservedFrom: 100));
        try
        {
            using var listener = TakeListener(child);
            Assert.Equal("unix True", ReadLine(child));
            Assert.Equal("inet made", ReadLine(child));
            Assert.Equal("inet made", ReadLine(child));
            var connect = Next(listener);
            Assert.Equal((SyscallNr.Connect, 7UL), (connect.Nr, connect.Args[0]));
            Assert.True(SeccompListener.Answer(listener, connect.Id, -(long)Errno.ECONNREFUSED));
            Assert.Equal($"connect -1", ReadLine(child));
            Assert.Equal("listen 0", ReadLine(child));
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Equal(0, child.ExitCode);
        }
        finally
        {
            if (!child.HasExited) child.Kill();
        }
    }
}
