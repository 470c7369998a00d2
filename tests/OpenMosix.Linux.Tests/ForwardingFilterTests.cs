using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Seccomp;
using OpenMosix.TestSupport;

namespace OpenMosix.Linux.Tests;

/// <summary>
/// The forwarding filter run by the kernel: a python3 child installs it (no_new_privs, a listener), then makes calls;
/// the test is its supervisor. Calls on forwarded numbers and on the reserved range reach the supervisor, with their
/// arguments, and return what it answers; calls on other numbers (AT_FDCWD among them), and calls the filter does not
/// list, run as usual.
/// </summary>
public sealed class ForwardingFilterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private const string Child = FilteredPython.Preamble + """
        r, w = os.pipe()
        os.dup2(w, 8)
        install_filter()
        sys.stdin.readline()
        print("local", os.write(8, b"local"), os.read(r, 100).decode(), flush=True)
        print("path", os.stat("/").st_ino > 0, os.path.exists("/proc/self"), flush=True)
        print("forwarded", os.write(7, b"abc"), flush=True)
        try:
            os.read(150, 10)
        except OSError as e:
            print("reserved", e.errno, flush=True)
        print("tty", os.isatty(7), flush=True)
        try:
            os.fsync(7)
        except OSError as e:
            print("unlisted", e.errno, flush=True)
        """;

    [Fact]
    public void Calls_on_forwarded_and_reserved_numbers_reach_the_supervisor_and_others_and_stats_of_paths_run_locally()
    {
        using var child = StartFiltered(Child, ForwardingFilter.Build([7, 9], reservedFrom: 100));
        try
        {
            using var listener = TakeListener(child);

            Assert.Equal("local 5 local", ReadLine(child));
            // A stat of a path (newfstatat at AT_FDCWD, -100: 0xffffff9c as the filter sees it, above any reserved
            // number) is the node's own: no notification.
            Assert.Equal("path True True", ReadLine(child));

            var write = Next(listener);
            Assert.Equal(SyscallNr.Write, write.Nr);
            Assert.Equal(7UL, write.Args[0]);
            Assert.Equal(3UL, write.Args[2]);
            Span<byte> written = stackalloc byte[3];
            Assert.True(SeccompListener.IsValid(listener, write.Id));
            ProcessMemory.Read(child.Id, write.Args[1], written);
            Assert.Equal("abc"u8.ToArray(), written.ToArray());
            Assert.True(SeccompListener.Answer(listener, write.Id, 42));
            Assert.Equal("forwarded 42", ReadLine(child));

            var read = Next(listener);
            Assert.Equal(SyscallNr.Read, read.Nr);
            Assert.Equal(150UL, read.Args[0]);
            Assert.True(SeccompListener.Answer(listener, read.Id, -(long)Errno.ENOTCONN));
            Assert.Equal($"reserved {(int)Errno.ENOTCONN}", ReadLine(child));

            var ioctl = Next(listener);
            Assert.Equal((SyscallNr.Ioctl, 7UL), (ioctl.Nr, ioctl.Args[0]));
            Assert.True(SeccompListener.Answer(listener, ioctl.Id, -(long)Errno.ENOTTY));
            Assert.Equal("tty False", ReadLine(child));

            // fsync is not a forwarded call: the kernel answers it itself (EBADF: the child has no fd 7), no notification.
            Assert.Equal($"unlisted {(int)Errno.EBADF}", ReadLine(child));
            Assert.True(child.WaitForExit(Patience));
            Assert.Equal(0, child.ExitCode);
        }
        finally
        {
            if (!child.HasExited) child.Kill();
        }
    }

    [Fact]
    public void The_filter_is_recognised_as_omds_own_and_an_ordinary_program_is_not()
    {
        Assert.True(ForwardingFilter.IsForwardingFilter(ForwardingFilter.Build([5])));
        Assert.False(ForwardingFilter.IsForwardingFilter(new byte[] { 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f }));
    }

    [Fact]
    public void More_forwarded_descriptors_than_the_filter_can_hold_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ForwardingFilter.Build([.. Enumerable.Range(3, ForwardingFilter.MaxForwarded + 1)]));
    }

    /// <summary>A python3 child that installs <paramref name="program"/> and waits for a line on its stdin.</summary>
    internal static Process StartFiltered(string child, byte[] program) =>
        Process.Start(new ProcessStartInfo("python3", ["-c", child, Convert.ToHexString(program)])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;

    /// <summary>The filter's listener, taken out of the child (which printed its number), and the child let go on.</summary>
    internal static SafeFileHandle TakeListener(Process child)
    {
        var listenerNumber = int.Parse(ReadLine(child), System.Globalization.CultureInfo.InvariantCulture);
        using var pidfd = PidFd.Open(child.Id);
        var listener = pidfd.GetFd(listenerNumber);
        child.StandardInput.WriteLine("go");
        child.StandardInput.Flush();
        return listener;
    }

    internal static SeccompNotice Next(SafeFileHandle listener)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
            if (ForwardedCalls.WaitReady(listener, write: false, 200) && SeccompListener.Receive(listener) is { } notice)
                return notice;
        throw new TimeoutException("no notification from the filtered child");
    }

    internal static string ReadLine(Process child)
    {
        var line = child.StandardOutput.ReadLineAsync();
        Assert.True(line.Wait(Patience), "the child said nothing");
        return line.Result ?? throw new InvalidOperationException($"the child ended early: {child.StandardError.ReadToEnd()}");
    }
}
