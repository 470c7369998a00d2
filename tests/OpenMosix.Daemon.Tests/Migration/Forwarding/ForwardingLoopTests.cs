using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration.Forwarding;
using OpenMosix.Linux;
using OpenMosix.Linux.Seccomp;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Migration.Forwarding;

/// <summary>
/// Both ends of forwarding over a real node link, with a real filtered process: a python3 child installs the
/// forwarding filter for its fds 7 (a pipe's read end) and 8 (another pipe's write end), the guest side serves its
/// notifications and home carries the calls out on its own duplicates of the child's descriptors (the child stands
/// in for both the copy and the deputy). The test holds the pipes' other ends.
/// </summary>
public sealed class ForwardingLoopTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private const int HugeWrite = 3_000_000; // three pieces and a bit, sent ahead of their results

    private const string Child = FilteredPython.Preamble + """
        signal.signal(signal.SIGUSR1, lambda *a: print("sig", flush=True))
        install_filter()
        sys.stdin.readline()
        print("read1", os.read(7, 100).decode(), flush=True)
        print("read2", os.read(7, 100).decode(), flush=True)
        print("wrote", os.write(8, b"y" * int(sys.argv[2])), flush=True)
        try:
            os.read(7, 100)
        except OSError as e:
            print("failed", e.errno, flush=True)
        """;

    [Fact]
    public async Task A_read_interrupted_by_a_signal_keeps_its_data_a_huge_write_arrives_whole_and_a_lost_link_fails_the_waiting_call()
    {
        var (inRead, inWrite) = Descriptors.CreatePipe();
        var (outRead, outWrite) = Descriptors.CreatePipe();
        var (stdinRead, stdinWrite) = Descriptors.CreatePipe();
        var (stdoutRead, stdoutWrite) = Descriptors.CreatePipe();
        using var input = new FileStream(inWrite, FileAccess.Write, 1);
        using var output = new FileStream(outRead, FileAccess.Read, 1);
        using var control = new StreamWriter(new FileStream(stdinWrite, FileAccess.Write, 1)) { AutoFlush = true };
        using var lines = new StreamReader(new FileStream(stdoutRead, FileAccess.Read, 1));
        var program = Convert.ToHexString(ForwardingFilter.Build([7, 8], reservedFrom: 1000));
        using var child = ChildProcess.Start("/usr/bin/python3", ["-c", Child, program, $"{HugeWrite}"], stdin: stdinRead, stdout: stdoutWrite,
            inherited: new Dictionary<int, SafeFileHandle> { [7] = inRead, [8] = outWrite });
        foreach (var end in new[] { inRead, outWrite, stdinRead, stdoutWrite }) end.Dispose();
        var (home, guest) = await LinkPairs.ConnectAsync();
        try
        {
            var listenerNumber = int.Parse(await Line(lines), System.Globalization.CultureInfo.InvariantCulture);
            using var pidfd = PidFd.Open(child.Pid);
            using var homeSide = HomeForwarder.Start(child.Pid, [7, 8], home, (_, _) => 0, NullLogger.Instance);
            using var guestSide = new GuestForwarder(child.Pid, pidfd.GetFd(listenerNumber), [7, 8], new Dictionary<int, ForwardMirrorEnds>(), 1000, 1064, guest, NullLogger.Instance);
            var homeLoop = Pump(home, homeSide.Take);
            var guestLoop = Pump(guest, guestSide.Take);
            guestSide.Start();
            await control.WriteLineAsync("go".AsMemory(), TestContext.Current.CancellationToken);

            // The first read waits at home for data; a signal interrupts it and the child's read starts again.
            Poll.Until(() => InRead(child.Pid), Patience, "the child to wait in its forwarded read");
            Signals.Kill(child.Pid, Signals.SIGUSR1);
            Assert.Equal("sig", await Line(lines));
            input.Write("abc"u8);
            Assert.Equal("read1 abc", await Line(lines));
            input.Write("def"u8);
            Assert.Equal("read2 def", await Line(lines));

            var received = new byte[HugeWrite];
            var drained = Task.Run(() => output.ReadExactly(received), TestContext.Current.CancellationToken);
            Assert.Equal($"wrote {HugeWrite}", await Line(lines));
            await drained.WaitAsync(Patience, TestContext.Current.CancellationToken);
            Assert.All(received, b => Assert.Equal((byte)'y', b));

            // The last read waits at home when the link goes: it fails as a read from a dead device would.
            Poll.Until(() => InRead(child.Pid), Patience, "the child to wait in its last forwarded read");
            await home.DisposeAsync();
            await guestLoop.WaitAsync(Patience, TestContext.Current.CancellationToken);
            guestSide.Dispose();
            Assert.Equal($"failed {(int)Errno.EIO}", await Line(lines));
            Assert.Equal(new ChildExit(0, 0), child.WaitForExit(Patience));
            await homeLoop.WaitAsync(Patience, TestContext.Current.CancellationToken);
        }
        finally
        {
            if (!child.HasExited) Signals.Kill(child.Pid, Signals.SIGKILL);
            await guest.DisposeAsync();
            await home.DisposeAsync();
        }
    }

    private static async Task Pump(NodeLink link, Func<Frame, bool> take)
    {
        try
        {
            while (await link.ReceiveAsync(CancellationToken.None) is { } frame) take(frame);
        }
        catch (Exception e) when (e is LinkException or ObjectDisposedException or IOException)
        {
            // the link went
        }
    }

    /// <summary>Whether the child waits in read(7, ...) (the syscall it is in, from /proc).</summary>
    private static bool InRead(int pid) => File.ReadAllText($"/proc/{pid}/syscall").StartsWith("0 0x7 ", StringComparison.Ordinal);

    private static async Task<string> Line(StreamReader lines) =>
        await lines.ReadLineAsync().WaitAsync(Patience) ?? throw new InvalidOperationException("the child ended early");
}
