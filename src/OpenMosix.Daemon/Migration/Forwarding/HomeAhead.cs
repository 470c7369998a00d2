using Microsoft.Win32.SafeHandles;
using static OpenMosix.Linux.SocketConstants;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Home's half of read-ahead on a forwarded stream socket (and on a pipe, <see cref="PipeAhead"/>). Bytes are peeked, not read: they stay in home's socket
/// until the copy has read them (<see cref="ForwardOp.Consumed"/>), so whatever happens to the copy's buffer (a move
/// home, a move on, a freeze, a read the buffer cannot serve) loses nothing and repeats nothing: a plain read at home
/// finds the bytes the copy did not read at the socket's head, as it would have without read-ahead. The peek offset
/// (SO_PEEK_OFF) is set only around each peek, so the program's own MSG_PEEK behaves as ever, at home or away.
/// </summary>
internal static class HomeAhead
{
    private const int MsgTrunc = 0x20;
    private const int DiscardPiece = 1 << 20;

    /// <summary>Peeks into <paramref name="into"/> what follows the bytes peeked before, without waiting; how many, or
    /// a negated errno (EOPNOTSUPP for a descriptor that is not a stream socket, EAGAIN for nothing there yet).</summary>
    public static long Peek(HomeDescriptor descriptor, SafeFileHandle fd, Span<byte> into, int deputy)
    {
        if (descriptor.PeeksAhead is null)
        {
            descriptor.PeeksAhead = HomeCalls.IsStreamSocket(fd);
            descriptor.Discards = descriptor.PeeksAhead == true && Domain(fd) is AfInet or AfInet6;
            if (descriptor.PeeksAhead == false && (descriptor.Pipe = PipeAhead.For(fd, deputy)) is not null) descriptor.PeeksAhead = true;
        }
        if (descriptor.PeeksAhead != true) return -(long)Errno.EOPNOTSUPP;
        if (descriptor.Pipe is { } pipe)
        {
            var copied = pipe.Peek(fd, descriptor.Peeked, into);
            if (copied > 0) descriptor.Peeked += (int)copied;
            return copied;
        }
        var set = ForwardedCalls.SetOption(fd, SolSocket, SoPeekOff, BitConverter.GetBytes(descriptor.Peeked));
        if (set < 0)
        {
            descriptor.PeeksAhead = false; // a kernel without SO_PEEK_OFF for this kind of socket (TCP before 6.9)
            return -(long)Errno.EOPNOTSUPP;
        }
        try
        {
            var n = ForwardedCalls.Receive(fd, into, ForwardedCalls.MsgPeek | ForwardedCalls.MsgDontWait, [], out _);
            if (n > 0) descriptor.Peeked += (int)n;
            return n;
        }
        finally
        {
            ForwardedCalls.SetOption(fd, SolSocket, SoPeekOff, BitConverter.GetBytes(-1));
        }
    }

    /// <summary>Takes <paramref name="count"/> bytes the copy read of those peeked out of the socket; how many it took.</summary>
    public static long Consume(HomeDescriptor descriptor, SafeFileHandle fd, long count)
    {
        if (count <= 0 || count > descriptor.Peeked) return -(long)Errno.EINVAL;
        if (descriptor.Pipe is { } pipe)
        {
            var took = pipe.Consume(fd, count);
            descriptor.Peeked -= (int)took;
            return took;
        }
        var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min(count, DiscardPiece));
        try
        {
            long taken = 0;
            // An internet socket discards with MSG_TRUNC without copying; a unix one copies into the scratch buffer.
            var flags = ForwardedCalls.MsgDontWait | (descriptor.Discards ? MsgTrunc : 0);
            while (taken < count)
            {
                var n = ForwardedCalls.Receive(fd, scratch.AsSpan(0, (int)Math.Min(count - taken, scratch.Length)), flags, [], out _);
                if (n <= 0) break; // another reader at home took them: nothing more to take
                taken += n;
            }
            descriptor.Peeked -= (int)taken;
            return taken;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static int Domain(SafeFileHandle fd)
    {
        var value = new byte[4];
        return ForwardedCalls.GetOption(fd, SolSocket, SoDomain, value, out var length) == 0 && length == 4 ? BitConverter.ToInt32(value) : 0;
    }
}
