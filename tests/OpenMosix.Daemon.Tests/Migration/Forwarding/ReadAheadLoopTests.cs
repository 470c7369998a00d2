using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration.Forwarding;
using OpenMosix.Linux;
using OpenMosix.Linux.Interop;
using OpenMosix.Linux.Seccomp;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Migration.Forwarding;

/// <summary>
/// Read-ahead on a forwarded stream socket (docs/forwarding.md), both ends over a real node link with a real filtered
/// python3 child whose fd 7 is one end of a connection (unix stream or TCP on loopback); the test holds the other end
/// and a duplicate of the child's, which stands in for the deputy's descriptor at home. Home only peeks ahead, so what
/// the child has not read is still in home's socket when the stay ends, whatever the copy's node had read ahead.
/// </summary>
public sealed class ReadAheadLoopTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const int First = (3 << 20) + 5, Second = (6 << 20) + 99, SecondRead = (4 << 20) + 3;

    /// <summary>Reads exactly First bytes in reads of many sizes and says whether poll still finds fd 7 readable; then
    /// peeks, reads SecondRead bytes (one receive with MSG_WAITALL among them) and waits for the end.</summary>
    private const string Child = FilteredPython.Preamble + """
        import hashlib, select, socket
        install_filter()
        s = socket.socket(fileno=7)
        sizes = [1, 4095, 65536, 1 << 20, 3 << 20, 777, (1 << 20) + 1]
        def take(count, waitall_at=-1):
            h, got, i = hashlib.sha256(), 0, 0
            while got < count:
                size = min(sizes[i % len(sizes)], count - got)
                b = s.recv(size, socket.MSG_WAITALL) if i == waitall_at else os.read(7, size)
                if not b: break
                if i == waitall_at and len(b) != size: sys.exit("short MSG_WAITALL")
                h.update(b); got += len(b); i += 1
            return got, h.hexdigest()
        sys.stdin.readline()
        got, digest = take(int(sys.argv[2]))
        p = select.poll(); p.register(7, select.POLLIN)
        print("one", got, digest, len(p.poll(0)), flush=True)
        sys.stdin.readline()
        peeked = s.recv(10, socket.MSG_PEEK)
        got, digest = take(int(sys.argv[3]), waitall_at=5)
        print("two", got, digest, peeked.hex(), flush=True)
        sys.stdin.readline()
        """;

    [Theory]
    [InlineData("unix")]
    [InlineData("tcp")]
    public async Task A_stream_read_ahead_gives_every_byte_once_in_order_and_leaves_what_the_program_did_not_read_at_home(string kind)
    {
        var (peer, childEnd, owners) = Connect(kind);
        using var sockets = owners;
        using var child = FilteredChild.Start(Child, childEnd, controlled: true, $"{First}", $"{SecondRead}");
        var (control, lines) = (child.Control!, child.Lines);
        var (home, guest) = await LinkPairs.ConnectAsync();
        var stream = RandomNumberGenerator.GetBytes(First + Second);
        try
        {
            var (homeSide, guestSide, loops) = await StartStayAsync(child, home, guest);

            // All of the first part is there before the child reads: read ahead, it is still all the child gets, and
            // once it has read the last byte its socket is not readable any more.
            var writer = Task.Run(() => Descriptors.WriteAll(peer, stream.AsSpan(0, First)), TestContext.Current.CancellationToken);
            await control.WriteLineAsync("go".AsMemory(), TestContext.Current.CancellationToken);
            Assert.Equal($"one {First} {Hex(SHA256.HashData(stream.AsSpan(0, First)))} 0", await Line(lines));
            await writer.WaitAsync(Patience, TestContext.Current.CancellationToken);

            // The second part is more than the child reads: the rest is still in home's socket when the stay ends.
            writer = Task.Run(() => Descriptors.WriteAll(peer, stream.AsSpan(First)), TestContext.Current.CancellationToken);
            await control.WriteLineAsync("go".AsMemory(), TestContext.Current.CancellationToken);
            var second = stream[First..];
            Assert.Equal($"two {SecondRead} {Hex(SHA256.HashData(second[..SecondRead]))} {Hex(second[..10])}", await Line(lines));
            Assert.True(guestSide.ReadsServedAhead > 0, "some of the child's reads were served from bytes read ahead");
            await EndStayAsync(homeSide, guestSide, home, guest, loops);

            var rest = new byte[Second - SecondRead];
            using var deputys = Descriptors.Duplicate(childEnd);
            ForwardedCalls.Control(deputys, ForwardedCalls.FSetFl, (int)OpenFlags.ReadWrite);
            var at = 0;
            while (at < rest.Length)
            {
                var n = Descriptors.Read(deputys, rest.AsSpan(at));
                Assert.True(n > 0, $"home's socket ended after {at} of the {rest.Length} bytes the child did not read");
                at += n;
            }
            Assert.Equal(Hex(SHA256.HashData(second[SecondRead..])), Hex(SHA256.HashData(rest)));
            await writer.WaitAsync(Patience, TestContext.Current.CancellationToken);
            Assert.Equal(-(long)Errno.EAGAIN, ForwardedCalls.Receive(deputys, new byte[1], ForwardedCalls.MsgDontWait, [], out _));
        }
        finally
        {
            child.Kill();
            await guest.DisposeAsync();
            await home.DisposeAsync();
            peer.Dispose();
            childEnd.Dispose();
        }
    }

    /// <summary>Reads exactly argv[2] bytes of fd 7, a pipe, in reads of many sizes; waits for a line.</summary>
    private const string PipeChild = FilteredPython.Preamble + """
        import hashlib
        install_filter()
        sizes = [1, 4095, 65536, 1 << 20, 777, (1 << 20) + 1, 100000]
        h, got, i, count = hashlib.sha256(), 0, 0, int(sys.argv[2])
        while got < count:
            b = os.read(7, min(sizes[i % len(sizes)], count - got))
            if not b: break
            h.update(b); got += len(b); i += 1
        print("read", got, h.hexdigest(), flush=True)
        sys.stdin.readline()
        """;

    /// <summary>
    /// A pipe is read ahead by copying its head (tee), never by taking bytes out of it: every byte reaches the child
    /// once, in order, and what it did not read is all still in home's pipe when the stay ends, whatever the copy's
    /// node had read ahead.
    /// </summary>
    [Fact]
    public async Task A_pipe_read_ahead_gives_every_byte_once_in_order_and_leaves_what_the_program_did_not_read_in_homes_pipe()
    {
        var (childEnd, peer) = Descriptors.CreatePipe();
        using var child = FilteredChild.Start(PipeChild, childEnd, controlled: true, $"{First}");
        var lines = child.Lines;
        var (home, guest) = await LinkPairs.ConnectAsync();
        var stream = RandomNumberGenerator.GetBytes(First + Second);
        try
        {
            var (homeSide, guestSide, loops) = await StartStayAsync(child, home, guest);
            var writer = Task.Run(() => Descriptors.WriteAll(peer, stream), TestContext.Current.CancellationToken);
            Assert.Equal($"read {First} {Hex(SHA256.HashData(stream.AsSpan(0, First)))}", await Line(lines));
            Assert.True(guestSide.ReadsServedAhead > 0, "some of the child's reads were served from bytes read ahead");
            await EndStayAsync(homeSide, guestSide, home, guest, loops);

            using var deputys = Descriptors.Duplicate(childEnd);
            var rest = Task.Run(() =>
            {
                using var read = new MemoryStream();
                var buffer = new byte[1 << 16];
                for (int n; (n = Descriptors.Read(deputys, buffer)) > 0;) read.Write(buffer, 0, n);
                return read.ToArray();
            }, TestContext.Current.CancellationToken);
            await writer.WaitAsync(Patience, TestContext.Current.CancellationToken);
            peer.Dispose();
            child.Kill();
            childEnd.Dispose();
            Assert.Equal(Hex(SHA256.HashData(stream.AsSpan(First))), Hex(SHA256.HashData(await rest.WaitAsync(Patience, TestContext.Current.CancellationToken))));
        }
        finally
        {
            child.Kill();
            await guest.DisposeAsync();
            await home.DisposeAsync();
            peer.Dispose();
            childEnd.Dispose();
        }
    }

    /// <summary>Reads fd 7 a MiB at a time to its end, and once more after it.</summary>
    private const string ToTheEnd = FilteredPython.Preamble + """
        import hashlib
        install_filter()
        h, got = hashlib.sha256(), 0
        while True:
            b = os.read(7, 1 << 20)
            if not b: break
            h.update(b); got += len(b)
        print("end", got, h.hexdigest(), len(os.read(7, 100)), flush=True)
        """;

    [Theory]
    [InlineData("unix")]
    [InlineData("tcp")]
    public async Task End_of_file_reaches_a_program_reading_ahead_after_the_last_byte_and_again_after_it(string kind)
    {
        var (peer, childEnd, owners) = Connect(kind);
        using var sockets = owners;
        using var child = FilteredChild.Start(ToTheEnd, childEnd, controlled: false);
        var (home, guest) = await LinkPairs.ConnectAsync();
        var stream = RandomNumberGenerator.GetBytes((5 << 20) + 4321);
        try
        {
            var (homeSide, guestSide, _) = await StartStayAsync(child, home, guest);
            using var homeOwned = homeSide;
            using var guestOwned = guestSide;
            Descriptors.WriteAll(peer, stream);
            ForwardedCalls.Shutdown(peer, 1);
            Assert.Equal($"end {stream.Length} {Hex(SHA256.HashData(stream))} 0", await Line(child.Lines));
            Assert.Equal(new ChildExit(0, 0), child.Process.WaitForExit(Patience));
        }
        finally
        {
            child.Kill();
            await guest.DisposeAsync();
            await home.DisposeAsync();
            peer.Dispose();
            childEnd.Dispose();
        }
    }

    /// <summary>A connection of <paramref name="kind"/>, both ends blocking: the test's end, the child's end, and what
    /// owns them (the .NET sockets of a TCP connection).</summary>
    private static (SafeFileHandle Peer, SafeFileHandle ChildEnd, IDisposable Owners) Connect(string kind)
    {
        if (kind == "unix")
        {
            var (a, b) = ForwardedReadiness.CreateSocketPair();
            Blocking(a);
            Blocking(b);
            return (a, b, new Owners([]));
        }
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        var accepted = listener.Accept();
        var peer = Descriptors.Duplicate(new SafeFileHandle(client.Handle, ownsHandle: false));
        var childEnd = Descriptors.Duplicate(new SafeFileHandle(accepted.Handle, ownsHandle: false));
        Blocking(peer);
        Blocking(childEnd);
        return (peer, childEnd, new Owners([client, accepted]));
    }

    private sealed class Owners(IDisposable[] owned) : IDisposable
    {
        public void Dispose()
        {
            foreach (var o in owned) o.Dispose();
        }
    }

    /// <summary>A python3 <paramref name="script"/> under the forwarding filter for fd 7, which is
    /// <paramref name="childEnd"/>: its stdout read by lines, and with <paramref name="controlled"/> its stdin written
    /// by the test (a line lets it go on). Killed when disposed, if it still runs.</summary>
    private sealed class FilteredChild(ChildProcess process, StreamReader lines, StreamWriter? control) : IDisposable
    {
        public ChildProcess Process => process;
        public StreamReader Lines => lines;
        public StreamWriter? Control => control;

        public static FilteredChild Start(string script, SafeFileHandle childEnd, bool controlled, params string[] arguments)
        {
            SafeFileHandle? stdinRead = null, stdinWrite = null;
            if (controlled) (stdinRead, stdinWrite) = Descriptors.CreatePipe();
            var (stdoutRead, stdoutWrite) = Descriptors.CreatePipe();
            var program = Convert.ToHexString(ForwardingFilter.Build([7], reservedFrom: 1000));
            var child = ChildProcess.Start("/usr/bin/python3", ["-c", script, program, .. arguments], stdin: stdinRead, stdout: stdoutWrite,
                inherited: new Dictionary<int, SafeFileHandle> { [7] = childEnd });
            stdinRead?.Dispose();
            stdoutWrite.Dispose();
            return new(child, new StreamReader(new FileStream(stdoutRead, FileAccess.Read, 1)),
                stdinWrite is null ? null : new StreamWriter(new FileStream(stdinWrite, FileAccess.Write, 1)) { AutoFlush = true });
        }

        public void Kill()
        {
            if (!process.HasExited) Signals.Kill(process.Pid, Signals.SIGKILL);
        }

        public void Dispose()
        {
            Kill();
            control?.Dispose();
            lines.Dispose();
            process.Dispose();
        }
    }

    private static void Blocking(SafeFileHandle fd) => ForwardedCalls.Control(fd, ForwardedCalls.FSetFl, (int)OpenFlags.ReadWrite);

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>Both ends of a stay over <paramref name="home"/> and <paramref name="guest"/> for the filtered child, whose
    /// first line names its seccomp listener; the pumps end with the links.</summary>
    private static async Task<(HomeForwarder Home, GuestForwarder Guest, Task Loops)> StartStayAsync(FilteredChild child, NodeLink home, NodeLink guest)
    {
        var pid = child.Process.Pid;
        var listenerNumber = int.Parse(await Line(child.Lines), System.Globalization.CultureInfo.InvariantCulture);
        using var pidfd = PidFd.Open(pid);
        var homeSide = HomeForwarder.Start(pid, [7], home, (_, _) => 0, NullLogger.Instance);
        var guestSide = new GuestForwarder(pid, pidfd.GetFd(listenerNumber), [7], new Dictionary<int, ForwardMirrorEnds>(), 1000, 1064, guest, NullLogger.Instance);
        // The copy's node takes results of reads and peeks on the link's reading thread, as GuestRelay does.
        var loops = Task.WhenAll(Pump(home, homeSide.Take), Pump(guest, guestSide.Take, (type, payload) => type == FrameType.Forward && guestSide.TakeInline(payload)));
        guestSide.Start();
        return (homeSide, guestSide, loops);
    }

    /// <summary>Ends a stay as a move or a freeze does: no new call taken, those under way (the consumes of the last
    /// reads) answered; then both ends and their links go.</summary>
    private static async Task EndStayAsync(HomeForwarder homeSide, GuestForwarder guestSide, NodeLink home, NodeLink guest, Task loops)
    {
        Assert.True(await guestSide.QuiesceAsync(TimeSpan.FromSeconds(10)));
        guestSide.Dispose();
        homeSide.Dispose();
        await home.DisposeAsync();
        await guest.DisposeAsync();
        await loops.WaitAsync(Patience, TestContext.Current.CancellationToken);
    }

    private static async Task Pump(NodeLink link, Func<Frame, bool> take, FrameSink? inline = null)
    {
        try
        {
            while (await (inline is null ? link.ReceiveAsync(CancellationToken.None) : link.ReceiveAsync(inline, CancellationToken.None)) is { } frame) take(frame);
        }
        catch (Exception e) when (e is LinkException or ObjectDisposedException or IOException)
        {
            // the link went
        }
    }

    private static async Task<string> Line(StreamReader lines) =>
        await lines.ReadLineAsync().WaitAsync(Patience) ?? throw new InvalidOperationException("the child ended early");
}
