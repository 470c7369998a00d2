using Microsoft.Win32.SafeHandles;
using static OpenMosix.Linux.SocketConstants;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Carries out one forwarded call on home's duplicate of the descriptor and makes its reply. A call that would block
/// (a read on an empty pipe, a receive, an accept, a write to a full pipe) waits for readiness in slices, so that it
/// can be given up when the relay ends; on a descriptor the program made non-blocking it returns EAGAIN as at home.
/// </summary>
internal static class HomeCalls
{
    private const int WaitSliceMs = 200;
    private const long EAgain = -(long)Errno.EAGAIN;
    private const long NonBlock = 0x800;

    /// <summary>The reply; for an accepted connection also its handle (<paramref name="accepted"/>).</summary>
    public static ForwardReply Run(ForwardRequest call, SafeFileHandle fd, CancellationToken stop, out SafeFileHandle? accepted)
    {
        accepted = null;
        var reply = new ForwardReply(call.Id, 0);
        switch (call.Op)
        {
            case ForwardOp.ReadAt:
            {
                var buffer = new byte[Count(call.A0)];
                var n = ForwardedCalls.ReadAt(fd, buffer, call.A1);
                return Filled(reply, buffer, n);
            }
            case ForwardOp.Write when call.A1 == ForwardWire.WholePiece:
                return reply with { Result = Whole(call.Data, data => Blocking(fd, write: true, dontWait: false, stop, () => ForwardedCalls.Write(fd, data.Span))) };
            case ForwardOp.Write:
                return reply with { Result = Blocking(fd, write: true, dontWait: false, stop, () => ForwardedCalls.Write(fd, call.Data.Span)) };
            case ForwardOp.Streams:
                return reply with { Result = IsBlockingStream(fd) ? 1 : 0 };
            case ForwardOp.WriteAt:
                return reply with { Result = ForwardedCalls.WriteAt(fd, call.Data.Span, call.A1) };
            case ForwardOp.ReadDirectory:
            {
                var buffer = new byte[Count(call.A0)];
                var n = ForwardedCalls.ReadDirectory(fd, buffer);
                return Filled(reply, buffer, n);
            }
            case ForwardOp.Seek:
                return reply with { Result = ForwardedCalls.Seek(fd, call.A0, (int)call.A1) };
            case ForwardOp.GetFlags:
                return reply with { Result = ForwardedCalls.Control(fd, ForwardedCalls.FGetFl, 0) };
            case ForwardOp.SetFlags:
                return reply with { Result = ForwardedCalls.Control(fd, ForwardedCalls.FSetFl, (int)call.A0) };
            case ForwardOp.Status:
            {
                var stat = new byte[ForwardedCalls.StatSize];
                var r = ForwardedCalls.Status(fd, stat);
                return r < 0 ? reply with { Result = r } : reply with { Data = stat };
            }
            case ForwardOp.Send:
            {
                var flags = (int)call.A0 | ForwardedCalls.MsgNoSignal;
                long Send(ReadOnlyMemory<byte> data) => Blocking(fd, write: true, dontWait: (flags & ForwardedCalls.MsgDontWait) != 0, stop,
                    () => ForwardedCalls.Send(fd, data.Span, flags | ForwardedCalls.MsgDontWait, call.Address.Span));
                return reply with { Result = call.A1 == ForwardWire.WholePiece ? Whole(call.Data, Send) : Send(call.Data) };
            }
            case ForwardOp.Receive:
            {
                // A receive that wants no address is read straight into its reply's frame (ReadInto).
                var buffer = new byte[Count(call.A0)];
                var address = new byte[call.A2 != 0 ? ForwardedCalls.MaxAddress : 0];
                var length = 0;
                var flags = (int)call.A1;
                var n = Blocking(fd, write: false, dontWait: (flags & ForwardedCalls.MsgDontWait) != 0, stop,
                    () => ForwardedCalls.Receive(fd, buffer, flags | ForwardedCalls.MsgDontWait, address, out length));
                return reply with
                {
                    Result = n,
                    Data = n > 0 ? buffer.AsMemory(0, (int)Math.Min(n, buffer.Length)) : ReadOnlyMemory<byte>.Empty,
                    Extra = n >= 0 ? address.AsMemory(0, Math.Min(length, address.Length)) : ReadOnlyMemory<byte>.Empty,
                };
            }
            case ForwardOp.Connect:
                return reply with { Result = Connect(fd, call.Address, stop) };
            case ForwardOp.Bind:
                return reply with { Result = ForwardedCalls.Bind(fd, call.Address.Span) };
            case ForwardOp.Listen:
                return reply with { Result = ForwardedCalls.Listen(fd, (int)Math.Clamp(call.A0, int.MinValue, int.MaxValue)) };
            case ForwardOp.Shutdown:
                return reply with { Result = ForwardedCalls.Shutdown(fd, (int)call.A0) };
            case ForwardOp.GetOption:
            {
                var value = new byte[Math.Clamp(call.A2, 0, ForwardWire.MaxExtra)];
                var r = ForwardedCalls.GetOption(fd, (int)call.A0, (int)call.A1, value, out var length);
                return reply with { Result = r, Extra = value.AsMemory(0, Math.Min(length, value.Length)) };
            }
            case ForwardOp.SetOption:
                return reply with { Result = ForwardedCalls.SetOption(fd, (int)call.A0, (int)call.A1, call.Data.Span) };
            case ForwardOp.SocketName:
            case ForwardOp.PeerName:
            {
                var address = new byte[ForwardedCalls.MaxAddress];
                var r = ForwardedCalls.Name(fd, call.Op == ForwardOp.PeerName, address, out var length);
                return reply with { Result = r, Extra = address.AsMemory(0, Math.Min(length, address.Length)) };
            }
            case ForwardOp.Accept:
            {
                var address = new byte[ForwardedCalls.MaxAddress];
                var length = 0;
                SafeFileHandle? connection = null;
                var r = Blocking(fd, write: false, dontWait: ForwardedCalls.IsNonBlocking(fd), stop, () =>
                {
                    connection = ForwardedCalls.Accept(fd, (call.A0 & NonBlock) != 0, address, out length, out var error);
                    return error;
                });
                accepted = connection;
                return reply with { Result = r, Extra = r == 0 ? address.AsMemory(0, Math.Min(length, address.Length)) : ReadOnlyMemory<byte>.Empty };
            }
            case ForwardOp.Control:
                return Control(call, fd);
            default:
                return reply with { Result = -(long)Errno.EINVAL };
        }
    }

    /// <summary>An ioctl of <see cref="ForwardedIoctls"/>, with exactly the bytes its shape says; any other is not known here.</summary>
    private static ForwardReply Control(ForwardRequest call, SafeFileHandle fd)
    {
        var reply = new ForwardReply(call.Id, -(long)Errno.ENOTTY);
        if (ForwardedIoctls.Of((uint)call.A0) is not { } shape || call.Data.Length != shape.In || call.A2 != shape.Out) return reply;
        var argument = new byte[Math.Max(shape.In, shape.Out)];
        call.Data.Span.CopyTo(argument);
        var r = ForwardedCalls.IoControl(fd, (uint)call.A0, argument, call.A1);
        return reply with { Result = r, Extra = r >= 0 ? argument.AsMemory(0, shape.Out) : ReadOnlyMemory<byte>.Empty };
    }

    /// <summary>
    /// connect as the program's call behaves: on a non-blocking socket at once (EINPROGRESS, as at home); on a
    /// blocking one the connection is started non-blocking and waited for in slices (so the stay's end can give it
    /// up), then its outcome read from SO_ERROR, as the kernel's blocking connect does; the socket's mode is put back.
    /// </summary>
    private static long Connect(SafeFileHandle fd, ReadOnlyMemory<byte> address, CancellationToken stop)
    {
        if (ForwardedCalls.IsNonBlocking(fd)) return ForwardedCalls.Connect(fd, address.Span);
        var flags = (int)ForwardedCalls.Control(fd, ForwardedCalls.FGetFl, 0);
        ForwardedCalls.Control(fd, ForwardedCalls.FSetFl, flags | (int)NonBlock);
        try
        {
            var r = ForwardedCalls.Connect(fd, address.Span);
            if (r != -(long)Errno.EINPROGRESS) return r;
            while (!ForwardedCalls.WaitReady(fd, write: true, WaitSliceMs))
                if (stop.IsCancellationRequested) return -(long)Errno.EINTR;
            var value = new byte[4];
            var e = ForwardedCalls.GetOption(fd, SolSocket, SoError, value, out _);
            return e < 0 ? e : -(long)BitConverter.ToInt32(value);
        }
        finally
        {
            ForwardedCalls.Control(fd, ForwardedCalls.FSetFl, flags);
        }
    }

    /// <summary>The reply of a call that read <paramref name="n"/> bytes into <paramref name="buffer"/> (or failed).</summary>
    private static ForwardReply Filled(ForwardReply reply, byte[] buffer, long n) =>
        n > 0 ? reply with { Result = n, Data = buffer.AsMemory(0, (int)n) } : reply with { Result = n };

    /// <summary>
    /// A read, or a receive that wants no sender's address, straight into a reply's frame at <paramref name="at"/>
    /// (room for <see cref="Count"/> of what was asked): a bulk read allocated a buffer per MiB and copied it again
    /// into its frame.
    /// </summary>
    public static long ReadInto(ForwardRequest call, SafeFileHandle fd, CancellationToken stop, byte[] frame, int at)
    {
        ArgumentNullException.ThrowIfNull(call);
        var count = Count(call.A0);
        if (call.Op == ForwardOp.Read) return Blocking(fd, write: false, dontWait: false, stop, () => ForwardedCalls.Read(fd, frame.AsSpan(at, count)));
        var flags = (int)call.A1;
        return Blocking(fd, write: false, dontWait: (flags & ForwardedCalls.MsgDontWait) != 0, stop,
            () => ForwardedCalls.Receive(fd, frame.AsSpan(at, count), flags | ForwardedCalls.MsgDontWait, [], out _));
    }

    /// <summary>Whether a call is one <see cref="ReadInto"/> serves.</summary>
    public static bool ReadsIntoFrame(ForwardRequest call) => call.Op == ForwardOp.Read || (call.Op == ForwardOp.Receive && call.A2 == 0);

    /// <summary>
    /// A piece written behind (the copy's call was answered when it was sent): all of it, as a blocking write of the
    /// program's would; its length, or the error that stopped it even after part of it was written (the copy was told
    /// all of it was: the error is what its next write must get, EPIPE rather than a short count).
    /// </summary>
    private static long Whole(ReadOnlyMemory<byte> data, Func<ReadOnlyMemory<byte>, long> write)
    {
        long done = 0;
        while (done < data.Length)
        {
            var n = write(data[(int)done..]);
            if (n < 0) return n;
            if (n == 0) return done;
            done += n;
        }
        return done;
    }

    private const int SModeAt = 24, SIfMt = 0xF000, SIfIfo = 0x1000, SIfSock = 0xC000;

    /// <summary>A pipe, FIFO or stream socket in blocking mode: one whose writes may be written behind.</summary>
    private static bool IsBlockingStream(SafeFileHandle fd) => !ForwardedCalls.IsNonBlocking(fd) && (TypeOf(fd) == SIfIfo || IsStreamSocket(fd));

    /// <summary>A stream socket (TCP, unix stream): one whose bytes can be peeked ahead of its reader.</summary>
    public static bool IsStreamSocket(SafeFileHandle fd)
    {
        if (TypeOf(fd) != SIfSock) return false;
        var value = new byte[4];
        return ForwardedCalls.GetOption(fd, SolSocket, SoType, value, out var length) == 0 && length == 4 && BitConverter.ToInt32(value) == SockStream;
    }

    /// <summary>The file type bits of its mode (S_IFMT), 0 when fstat fails.</summary>
    private static int TypeOf(SafeFileHandle fd)
    {
        var stat = new byte[ForwardedCalls.StatSize];
        return ForwardedCalls.Status(fd, stat) < 0 ? 0 : BitConverter.ToInt32(stat, SModeAt) & SIfMt;
    }

    private static int Count(long asked) => (int)Math.Clamp(asked, 0, ForwardWire.MaxData);

    /// <summary>
    /// Runs <paramref name="call"/> as the program's blocking call would behave, without blocking for good: while it
    /// would block, wait for readiness a slice at a time. A descriptor the program made non-blocking (or a call with
    /// MSG_DONTWAIT) answers at once.
    /// </summary>
    private static long Blocking(SafeFileHandle fd, bool write, bool dontWait, CancellationToken stop, Func<long> call)
    {
        if (dontWait || ForwardedCalls.IsNonBlocking(fd)) return call();
        while (true)
        {
            if (ForwardedCalls.WaitReady(fd, write, WaitSliceMs))
            {
                var result = call();
                if (result != EAgain) return result;
            }
            if (stop.IsCancellationRequested) return -(long)Errno.EINTR;
        }
    }
}
