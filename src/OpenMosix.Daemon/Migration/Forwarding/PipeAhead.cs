using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Interop;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Read-ahead on a forwarded pipe or FIFO, kept as exact as a stream socket's (<see cref="HomeAhead"/>): home only
/// copies, the bytes stay in its pipe until the copy read them. A pipe has no peek offset, but tee(2) copies its head
/// into a pipe of ours without taking anything out; the bytes peeked before are thrown away from that copy. So what the
/// copy's node holds is again a cache of the head of home's pipe, and a move, a freeze, a trip home or a read the cache
/// cannot serve loses nothing: wherever the process reads next, those bytes are at the head of its pipe.
/// An anonymous pipe whose read end nobody at home holds but the deputy has one reader, the copy: its consumes take
/// the bytes out unseen. A FIFO (any process may open it for reading at any time) or a pipe another process at home
/// reads too is <see cref="Checked"/>: another reader may move the head under the peeks, so a consume reads the bytes
/// out, compares them with what was peeked for the copy, and where they differ hands the copy the bytes it really took
/// (docs/forwarding.md#pipes); the copy waits for that answer before its read returns.
/// The copy can be at most a pipe's capacity ahead, since a writer blocks on a full pipe: its capacity is raised to
/// <see cref="Window"/> (F_SETPIPE_SZ; the writer at home may then write that much before it blocks).
/// </summary>
internal sealed class PipeAhead : IDisposable
{
    /// <summary>The capacity home's pipe is given: a forwarded read's piece, about (the default pipe-max-size).</summary>
    public const int Window = 1 << 20;
    private readonly (SafeFileHandle Read, SafeFileHandle Write) _scratch;
    // Checked: a non-blocking open of the same pipe, so that a consume never waits when another reader emptied it, and
    // the bytes peeked for the copy and not consumed yet, in order (the first piece from _keptFrom on).
    private readonly SafeFileHandle? _nonBlocking;
    private readonly Queue<byte[]> _kept = new();
    private int _keptFrom;

    private PipeAhead((SafeFileHandle, SafeFileHandle) scratch, SafeFileHandle? nonBlocking)
    {
        _scratch = scratch;
        _nonBlocking = nonBlocking;
    }

    /// <summary>Whether other readers at home may take bytes: consumes are compared, and the copy waits for them.</summary>
    public bool Checked => _nonBlocking is not null;

    /// <summary>Read-ahead for <paramref name="fd"/>, the read end of a pipe or a FIFO that this omd holds for the
    /// deputy (<paramref name="deputy"/>); null for anything else.</summary>
    public static PipeAhead? For(SafeFileHandle fd, int deputy)
    {
        var path = $"/proc/self/fd/{fd.DangerousGetHandle()}";
        var link = LinkOf(path);
        if (link is null || !PipeHolders.OpenFor(Environment.ProcessId, (int)fd.DangerousGetHandle(), writing: false)) return null;
        var anonymous = link.StartsWith("pipe:", StringComparison.Ordinal);
        if (!anonymous && (!FileStatus.TryOf(path, out var status, out _) || status is not { Type: FileType.Fifo })) return null;
        // Any other reader (a process but the deputy and this omd), or any process that opens a FIFO later, may move
        // the head under the peeks.
        var shared = !anonymous || PipeHolders.Held(new HashSet<string>(StringComparer.Ordinal) { link }, writing: false, deputy, Environment.ProcessId).Count > 0;
        var capacity = PipePeek.Capacity(fd);
        if (capacity < Window) capacity = Math.Max(capacity, PipePeek.Grow(fd, Window));
        if (capacity <= 0) return null;
        SafeFileHandle? nonBlocking = null;
        try
        {
            // Opening the descriptor's /proc link opens the same pipe anew (a reader more, which changes nothing for
            // its writers while the deputy's end is open).
            if (shared) nonBlocking = Descriptors.Open(path, OpenFlags.ReadOnly | OpenFlags.NonBlock | OpenFlags.CloseOnExec);
        }
        catch (SyscallException)
        {
            return null;
        }
        var scratch = Descriptors.CreatePipe();
        if (PipePeek.Grow(scratch.Write, capacity) < capacity)
        {
            scratch.Read.Dispose();
            scratch.Write.Dispose();
            nonBlocking?.Dispose();
            return null;
        }
        return new PipeAhead(scratch, nonBlocking);
    }

    /// <summary>Copies what follows the <paramref name="skip"/> bytes peeked before; how many, or a negated errno.</summary>
    public long Peek(SafeFileHandle fd, int skip, Span<byte> into)
    {
        var copied = PipePeek.CopyAfter(fd, _scratch, skip, into);
        if (copied > 0 && Checked) _kept.Enqueue(into[..(int)copied].ToArray());
        return copied;
    }

    /// <summary>Takes <paramref name="count"/> bytes the copy read out of the pipe; how many it took. Only bytes that are
    /// there are read: a read of an empty pipe would wait. Checked, <paramref name="taken"/> is null when the bytes
    /// taken are the ones peeked for the copy, else the bytes taken (maybe none): the copy's read returns them instead.</summary>
    public long Consume(SafeFileHandle fd, long count, out byte[]? taken)
    {
        taken = null;
        if (Checked) return ConsumeChecked((int)Math.Min(count, ForwardWire.MaxData), out taken);
        long took = 0;
        // Into /dev/null by splice, without waiting: no byte copied (read out 64 KiB at a time, each MiB the copy read
        // was copied once more at home, in 32 calls).
        while (took < count)
        {
            var n = PipePeek.Discard(fd, count - took);
            if (n <= 0) break;
            took += n;
        }
        return took;
    }

    private long ConsumeChecked(int count, out byte[]? taken)
    {
        var read = new byte[count];
        var took = 0;
        while (took < count)
        {
            var n = ForwardedCalls.Read(_nonBlocking!, read.AsSpan(took));
            if (n <= 0) break; // empty now (EAGAIN), or its writers are gone
            took += (int)n;
        }
        if (took == count && KeptStartsWith(read))
        {
            DropKept(count);
            taken = null;
            return took;
        }
        // Another reader came between: what the copy holds is not the pipe's head. It gets what its read really took.
        Forget();
        taken = read[..took];
        return took;
    }

    /// <summary>A plain read, or a consume that differed: the copy holds nothing read ahead any more.</summary>
    public void Forget()
    {
        _kept.Clear();
        _keptFrom = 0;
    }

    private bool KeptStartsWith(ReadOnlySpan<byte> bytes)
    {
        var from = _keptFrom;
        foreach (var piece in _kept)
        {
            var part = Math.Min(piece.Length - from, bytes.Length);
            if (!piece.AsSpan(from, part).SequenceEqual(bytes[..part])) return false;
            bytes = bytes[part..];
            from = 0;
            if (bytes.IsEmpty) return true;
        }
        return bytes.IsEmpty;
    }

    private void DropKept(int count)
    {
        while (count > 0 && _kept.TryPeek(out var piece))
        {
            var part = Math.Min(piece.Length - _keptFrom, count);
            count -= part;
            _keptFrom += part;
            if (_keptFrom == piece.Length)
            {
                _kept.Dequeue();
                _keptFrom = 0;
            }
        }
    }

    private static string? LinkOf(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _scratch.Read.Dispose();
        _scratch.Write.Dispose();
        _nonBlocking?.Dispose();
    }
}
