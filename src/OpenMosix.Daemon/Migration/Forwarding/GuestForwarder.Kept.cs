using OpenMosix.Checkpoint.Dump;
using OpenMosix.Linux.Seccomp;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// What home did for calls whose results could not be delivered (a signal or a stop interrupted the call first), per
/// descriptor: bytes home read, given to the next read; bytes home wrote, not written again by the call's restart.
/// At a freeze, a call the copy is stopped in that they complete is recorded in the image as returned with them, so
/// that wherever the image runs (at home, on the real descriptor) the call is not carried out a second time.
/// </summary>
internal sealed partial class GuestForwarder : ICarriedOutCalls
{
    private readonly Lock _kept = new();
    private readonly Dictionary<int, byte[]> _unread = [];
    private readonly Dictionary<int, byte[]> _unreported = [];

    /// <summary>Interrupted writes that home carried out return what home wrote; interrupted reads return the bytes home
    /// read for them (put into their buffers). At most one call per descriptor; nothing is forgotten.</summary>
    public IReadOnlyDictionary<int, long> ResultsOf(IReadOnlyList<InterruptedCall> calls)
    {
        var results = new Dictionary<int, long>();
        var claimed = new HashSet<int>();
        foreach (var call in calls)
        {
            var a = call.Arguments;
            var fd = (int)(uint)a[0];
            if (claimed.Contains(fd)) continue;
            var result = CarriedOut(call.Number, fd, a);
            if (result is not { } carried) continue;
            claimed.Add(fd);
            results[call.Tid] = carried;
        }
        return results;
    }

    private long? CarriedOut(long number, int fd, IReadOnlyList<ulong> a)
    {
        try
        {
            return number switch
            {
                SyscallNr.Write or SyscallNr.Pwrite64 or SyscallNr.Sendto => WrittenFor(fd, [(a[1], a[2])]),
                SyscallNr.Writev => WrittenFor(fd, ReadIoVecs(a[1], a[2])),
                SyscallNr.Read => ReadFor(fd, [(a[1], a[2])]),
                SyscallNr.Readv => ReadFor(fd, ReadIoVecs(a[1], a[2])),
                // Not one that asks for the sender's address or only peeks: that one is made again.
                SyscallNr.Recvfrom when a[4] == 0 && ((int)a[3] & ForwardedCalls.MsgPeek) == 0 => ReadFor(fd, [(a[1], a[2])]),
                _ => null,
            };
        }
        catch (SyscallException)
        {
            return null; // buffers it cannot read: the call is made again and fails there as it would have
        }
    }

    /// <summary>How much home wrote for a write whose bytes begin with what was kept; null for any other write.</summary>
    private long? WrittenFor(int fd, List<(ulong Address, ulong Length)> vecs)
    {
        byte[]? written;
        lock (_kept) _unreported.TryGetValue(fd, out written);
        if (written is null || written.Length > Total(vecs)) return null;
        return Gather(vecs, 0, written.Length).AsSpan().SequenceEqual(written) ? written.Length : null;
    }

    /// <summary>The bytes home read for <paramref name="fd"/>, as far as the buffers take them, put into them.</summary>
    private long? ReadFor(int fd, List<(ulong Address, ulong Length)> vecs)
    {
        byte[]? unread;
        lock (_kept) _unread.TryGetValue(fd, out unread);
        if (unread is null) return null;
        var count = (int)Math.Min(unread.Length, Total(vecs));
        Scatter(vecs, unread.AsSpan(0, count));
        return count;
    }

    private byte[]? TakeUnread(int fd, int want)
    {
        lock (_kept)
        {
            if (!_unread.Remove(fd, out var kept)) return null;
            if (kept.Length > want) _unread[fd] = kept[want..];
            return kept.Length > want ? kept[..want] : kept;
        }
    }

    internal void KeepUnread(int fd, byte[] data)
    {
        lock (_kept) _unread[fd] = _unread.Remove(fd, out var before) ? [.. data, .. before] : data;
    }

    internal void KeepUnreported(int fd, byte[] written)
    {
        lock (_kept) _unreported[fd] = written;
    }

    /// <summary>How much of <paramref name="piece"/> an interrupted call wrote already (its restart begins with it).</summary>
    private int TakeUnreported(int fd, ReadOnlySpan<byte> piece)
    {
        lock (_kept)
        {
            if (!_unreported.Remove(fd, out var written)) return 0;
            var n = Math.Min(written.Length, piece.Length);
            if (!piece[..n].SequenceEqual(written.AsSpan(0, n))) return 0;
            if (written.Length > n) _unreported[fd] = written[n..];
            return n;
        }
    }

    private bool HasKept()
    {
        lock (_kept) return _unread.Count > 0 || _unreported.Count > 0;
    }

    private void ForgetKept(int fd)
    {
        lock (_kept)
        {
            _unread.Remove(fd);
            _unreported.Remove(fd);
        }
    }
}
