using OpenMosix.Linux.Seccomp;
using OpenMosix.TestSupport;
using static OpenMosix.Linux.Tests.ForwardingFilterTests;

namespace OpenMosix.Linux.Tests;

/// <summary>
/// The forwarding filter of a process whose home has home paths: every call that names a path reaches the supervisor
/// (AT_FDCWD too), which lets it run (SECCOMP_USER_NOTIF_FLAG_CONTINUE) or answers it; getdents64 on a forwarded
/// number reaches it too; a call that names no path still runs without it.
/// </summary>
public sealed class PathCallFilterTests
{
    private const string Child = FilteredPython.Preamble + """
        install_filter()
        sys.stdin.readline()
        print("stat", os.stat("/").st_ino > 0, flush=True)
        fd = os.open("/dev/null", os.O_RDONLY)
        print("open", fd > 2, os.read(fd, 10), flush=True)
        try:
            os.readlink("/home-only/link")
        except OSError as e:
            print("readlink", e.errno, flush=True)
        import ctypes
        buf = ctypes.create_string_buffer(1024)
        print("getdents", ctypes.CDLL(None).syscall(217, 7, buf, 1024), flush=True)
        """;

    [Fact]
    public void Calls_on_paths_reach_the_supervisor_which_lets_them_run_or_answers_them_and_getdents_on_a_forwarded_number_does_too()
    {
        using var child = StartFiltered(Child, ForwardingFilter.Build([7], reservedFrom: 100, pathCalls: true));
        try
        {
            using var listener = TakeListener(child);

            var stat = Next(listener);
            Assert.Equal((SyscallNr.Newfstatat, 0xffffff9cUL), (stat.Nr, stat.Args[0] & 0xffffffff));
            Assert.True(SeccompListener.Continue(listener, stat.Id));
            Assert.Equal("stat True", ReadLine(child));

            var open = Next(listener);
            Assert.Equal(SyscallNr.Openat, open.Nr);
            Assert.True(SeccompListener.Continue(listener, open.Id));
            // the read of /dev/null names no path and no forwarded number: no notification
            Assert.Equal("open True b''", ReadLine(child));

            var readlink = Next(listener);
            Assert.Contains(readlink.Nr, new[] { SyscallNr.Readlink, SyscallNr.Readlinkat });
            Assert.True(SeccompListener.Answer(listener, readlink.Id, -(long)Errno.EACCES));
            Assert.Equal($"readlink {(int)Errno.EACCES}", ReadLine(child));

            var getdents = Next(listener);
            Assert.Equal((SyscallNr.Getdents64, 7UL), (getdents.Nr, getdents.Args[0]));
            Assert.True(SeccompListener.Answer(listener, getdents.Id, 0));
            Assert.Equal("getdents 0", ReadLine(child));
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Equal(0, child.ExitCode);
        }
        finally
        {
            if (!child.HasExited) child.Kill();
        }
    }
}
