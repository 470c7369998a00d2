using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Read-ahead on a forwarded pipe, kept as exact as a stream socket's (<see cref="HomeAhead"/>): home only copies, the
/// bytes stay in its pipe until the copy read them. A pipe has no peek offset, but tee(2) copies its head into a pipe of
/// ours without taking anything out; the bytes peeked before are thrown away from that copy. So what the copy's node
/// holds is again a cache of the head of home's pipe, and a move, a freeze, a trip home or a read the cache cannot
/// serve loses nothing: wherever the process reads next, those bytes are at the head of its pipe.
/// Two limits make that true: the pipe is an anonymous one whose read end nobody at home holds but the deputy (a
/// second reader, or a FIFO any process may open, would move the head under the peeks and the copy would read bytes
/// twice); and the copy can be at most a pipe's capacity ahead, since a writer blocks on a full pipe: its capacity is
/// raised to <see cref="Window"/> (F_SETPIPE_SZ; the writer at home may then write that much before it blocks).
/// </summary>
internal sealed class PipeAhead : IDisposable
{
    /// <summary>The capacity home's pipe is given: a forwarded read's piece, about (the default pipe-max-size).</summary>
    public const int Window = 1 << 20;
    private readonly (SafeFileHandle Read, SafeFileHandle Write) _scratch;
    private readonly byte[] _away = new byte[1 << 16];

    private PipeAhead((SafeFileHandle, SafeFileHandle) scratch) => _scratch = scratch;

    /// <summary>Read-ahead for <paramref name="fd"/>, the read end of an anonymous pipe that only the deputy
    /// (<paramref name="deputy"/>) and this omd hold for reading; null for anything else.</summary>
    public static PipeAhead? For(SafeFileHandle fd, int deputy)
    {
        var link = LinkOf($"/proc/self/fd/{fd.DangerousGetHandle()}");
        if (link is null || !link.StartsWith("pipe:", StringComparison.Ordinal) || !PipeHolders.OpenFor(Environment.ProcessId, (int)fd.DangerousGetHandle(), writing: false)) return null;
        // Any other reader (a process but the deputy and this omd) would move the head under the peeks.
        if (PipeHolders.Held(new HashSet<string>(StringComparer.Ordinal) { link }, writing: false, deputy, Environment.ProcessId).Count > 0) return null;
        var capacity = PipePeek.Capacity(fd);
        if (capacity < Window) capacity = Math.Max(capacity, PipePeek.Grow(fd, Window));
        if (capacity <= 0) return null;
        var scratch = Descriptors.CreatePipe();
        if (PipePeek.Grow(scratch.Write, capacity) < capacity)
        {
            scratch.Read.Dispose();
            scratch.Write.Dispose();
            return null;
        }
        return new PipeAhead(scratch);
    }

    /// <summary>Copies what follows the <paramref name="skip"/> bytes peeked before; how many, or a negated errno.</summary>
    public long Peek(SafeFileHandle fd, int skip, Span<byte> into) => PipePeek.CopyAfter(fd, _scratch, skip, into);

    /// <summary>Takes <paramref name="count"/> bytes the copy read out of the pipe; how many it took. Only bytes that are
    /// there are read: a read of an empty pipe would wait.</summary>
    public long Consume(SafeFileHandle fd, long count)
    {
        long taken = 0;
        while (taken < count && PipePeek.Unread(fd) > 0)
        {
            var n = ForwardedCalls.Read(fd, _away.AsSpan(0, (int)Math.Min(count - taken, _away.Length)));
            if (n <= 0) break;
            taken += n;
        }
        return taken;
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
    }
}
