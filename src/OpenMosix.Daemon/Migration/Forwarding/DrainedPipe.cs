using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Daemon.Migration.Home;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Read-ahead on an anonymous pipe whose read end nobody at home holds but the deputy (<see cref="PipeAhead"/>): home
/// takes the bytes out of its pipe as soon as they are there, into a buffer of its own of up to <see cref="Bound"/>,
/// and serves the copy's peeks, consumes and plain reads from that buffer first. Read-ahead by tee could be at most
/// the pipe's capacity (1 MiB without CAP_SYS_RESOURCE) ahead of the copy's reads, since the writer blocks on a full
/// pipe: that was a round trip per MiB read.
/// Exact because nothing else can read the pipe while the process is away: the deputy holds its only read end and is
/// held (it forks, dups or passes nothing), and the copy's own dups and forks are on its node, served through this
/// omd. So the buffer is the head of the pipe; it outlives a stay (it is kept per process here, not per link: a move on
/// finds it, <see cref="Find"/>), and when the process is rebuilt at home (a trip home, a restart from a checkpoint) it
/// is given back in front of what is left in the pipe (<see cref="GiveBack"/>): the process gets a new pipe, fed with
/// the buffer and then the old pipe's bytes to its end, as its stdin is after a trip home (<see cref="InputFeed"/>).
/// </summary>
internal sealed class DrainedPipe
{
    /// <summary>How many bytes home takes out ahead of the copy's reads, at most.</summary>
    public const int Bound = 16 << 20;
    private const int Piece = 1 << 20;
    private static readonly ConcurrentDictionary<(int Pid, string Link), DrainedPipe> All = new();

    private readonly SafeFileHandle _pipe;
    // The bytes taken out and not yet read by the copy, in order; the first from _headAt on, the last up to _tailEnd.
    private readonly LinkedList<byte[]> _chunks = new();
    private int _headAt, _tailEnd;
    private long _held;
    private bool _gone;

    private DrainedPipe(int pid, string link, SafeFileHandle pipe)
    {
        Pid = pid;
        Link = link;
        _pipe = pipe;
    }

    public int Pid { get; }

    /// <summary>What /proc shows the pipe as ("pipe:[inode]").</summary>
    public string Link { get; }

    /// <summary>Bytes taken out of the pipe and not yet read by the copy.</summary>
    public long Held
    {
        get
        {
            lock (_chunks) return _held;
        }
    }

    /// <summary>The buffer of process <paramref name="pid"/>'s pipe <paramref name="link"/>, made on the first call
    /// (with its own duplicate of <paramref name="fd"/>).</summary>
    public static DrainedPipe Of(int pid, string link, SafeFileHandle fd) =>
        All.GetOrAdd((pid, link), key => new DrainedPipe(key.Pid, key.Link, Descriptors.Duplicate(fd)));

    /// <summary>The buffer kept for the pipe from an earlier stay, if any.</summary>
    public static DrainedPipe? Find(int pid, string? link) => link is not null && All.TryGetValue((pid, link), out var pipe) ? pipe : null;

    /// <summary>Takes out what the pipe holds now, without waiting, while the buffer has room.</summary>
    private void Drain()
    {
        while (!_gone && _held < Bound)
        {
            var queued = PipePeek.Unread(_pipe);
            if (queued <= 0) return;
            if (_chunks.Count == 0 || _tailEnd == Piece)
            {
                _chunks.AddLast(ArrayPool<byte>.Shared.Rent(Piece));
                _tailEnd = 0;
                if (_chunks.Count == 1) _headAt = 0;
            }
            var room = (int)Math.Min(Math.Min(queued, Piece - _tailEnd), Bound - _held);
            // Only this omd reads the pipe: what FIONREAD counted is there, and the read does not wait.
            var n = ForwardedCalls.Read(_pipe, _chunks.Last!.Value.AsSpan(_tailEnd, room));
            if (n <= 0) return;
            _tailEnd += (int)n;
            _held += n;
        }
    }

    /// <summary>Copies into <paramref name="into"/> the bytes that follow the first <paramref name="skip"/> held (peeked
    /// before); how many, 0 at the pipe's end, or -EAGAIN for nothing more now.</summary>
    public long Peek(int skip, Span<byte> into)
    {
        lock (_chunks)
        {
            if (_gone) return -(long)Errno.EBADF;
            Drain();
            var copied = CopyOut(skip, into);
            if (copied > 0) return copied;
            return AtEnd() ? 0 : -(long)Errno.EAGAIN;
        }
    }

    /// <summary>The copy read <paramref name="count"/> of the bytes held: they are dropped; how many.</summary>
    public long Consume(long count)
    {
        lock (_chunks)
        {
            if (_gone) return -(long)Errno.EBADF;
            var dropped = Drop(count);
            Drain();
            return dropped;
        }
    }

    /// <summary>A plain read: what is held first, as the pipe's head; null when nothing is (the read goes to the pipe,
    /// where the next bytes are).</summary>
    public long? Read(Span<byte> into)
    {
        lock (_chunks)
        {
            if (_gone || _held == 0) return null;
            var n = CopyOut(0, into);
            Drop(n);
            Drain();
            return n;
        }
    }

    private bool AtEnd() => (ForwardedReadiness.Of(_pipe) & (ForwardedReadiness.In | ForwardedReadiness.HangUp)) == ForwardedReadiness.HangUp;

    private int CopyOut(long skip, Span<byte> into)
    {
        var copied = 0;
        var first = true;
        for (var node = _chunks.First; node is not null && copied < into.Length; node = node.Next, first = false)
        {
            var start = first ? _headAt : 0;
            var end = node.Next is null ? _tailEnd : Piece;
            var length = end - start;
            if (skip >= length)
            {
                skip -= length;
                continue;
            }
            var part = (int)Math.Min(length - skip, into.Length - copied);
            node.Value.AsSpan(start + (int)skip, part).CopyTo(into[copied..]);
            copied += part;
            skip = 0;
        }
        return copied;
    }

    private long Drop(long count)
    {
        long dropped = 0;
        while (dropped < count && _chunks.First is { } node)
        {
            var end = node.Next is null ? _tailEnd : Piece;
            var part = (int)Math.Min(end - _headAt, count - dropped);
            _headAt += part;
            dropped += part;
            if (_headAt < end) break;
            _chunks.RemoveFirst();
            ArrayPool<byte>.Shared.Return(node.Value);
            _headAt = 0;
        }
        if (_chunks.Count == 0) _tailEnd = 0;
        _held -= dropped;
        return dropped;
    }

    /// <summary>Everything held, in order, and the buffer emptied and closed.</summary>
    private byte[] TakeAll()
    {
        var all = new byte[_held];
        CopyOut(0, all);
        Drop(_held);
        return all;
    }

    /// <summary>The copy closed its last number for the pipe: what is held goes with it.</summary>
    public void Close()
    {
        All.TryRemove(new KeyValuePair<(int, string), DrainedPipe>((Pid, Link), this));
        lock (_chunks)
        {
            if (_gone) return;
            _gone = true;
            Drop(_held);
            _pipe.Dispose();
        }
    }

    /// <summary>Process <paramref name="pid"/> ended: its buffers go.</summary>
    public static void Forget(int pid)
    {
        foreach (var pipe in All.Values.Where(p => p.Pid == pid).ToList()) pipe.Close();
    }

    /// <summary>
    /// Process <paramref name="pid"/> was rebuilt at home (kept frozen): each of its pipes whose bytes home holds gets
    /// a new pipe under every number the process has it by, fed with what is held and then what is left in the old one
    /// until its writers are gone (<see cref="InputFeed"/>). Nothing held: the process reads its pipe as it is.
    /// </summary>
    public static void GiveBack(IDeputyHost deputies, int pid, ILogger logger) =>
        GiveBack(pid, fd => deputies.ReplaceInput(pid, fd), (fd, number) => deputies.PutDescriptor(pid, fd, number), logger);

    /// <summary><see cref="GiveBack(IDeputyHost, int, ILogger)"/> with the deputy's two injections: a new pipe as a number
    /// (its write end returned), and a descriptor of omd's put under a number.</summary>
    internal static void GiveBack(int pid, Func<int, SafeFileHandle> replaceInput, Func<SafeHandle, int, long> putDescriptor, ILogger logger)
    {
        foreach (var pipe in All.Values.Where(p => p.Pid == pid).ToList())
        {
            All.TryRemove(new KeyValuePair<(int, string), DrainedPipe>((pipe.Pid, pipe.Link), pipe));
            byte[] held;
            lock (pipe._chunks)
            {
                if (pipe._gone) continue;
                pipe._gone = true;
                held = pipe.TakeAll();
            }
            var numbers = NumbersOf(pid, pipe.Link);
            if (held.Length == 0 || numbers.Count == 0)
            {
                pipe._pipe.Dispose();
                continue;
            }
            try
            {
                var feed = replaceInput(numbers[0]);
                if (numbers.Count > 1)
                {
                    using var process = PidFd.Open(pid);
                    using var replaced = process.GetFd(numbers[0]);
                    foreach (var other in numbers.Skip(1)) putDescriptor(replaced, other);
                }
                HomeLog.PipeGivenBack(logger, pid, numbers[0], held.Length);
                _ = InputFeed.Start(held, pipe._pipe, feed, logger, pid);
            }
            catch (Exception e) when (e is InvalidOperationException or SyscallException or NotSupportedException or Checkpoint.Tracing.InjectionException)
            {
                pipe._pipe.Dispose();
                HomeLog.PipeNotGivenBack(logger, pid, numbers[0], held.Length, e.Message);
            }
        }
    }

    /// <summary>The numbers under which process <paramref name="pid"/> holds the pipe <paramref name="link"/>, lowest first.</summary>
    private static List<int> NumbersOf(int pid, string link)
    {
        var numbers = new List<int>();
        try
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                if (!int.TryParse(Path.GetFileName(entry), out var fd)) continue;
                try
                {
                    if (new FileInfo(entry).LinkTarget == link) numbers.Add(fd);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Closed meanwhile.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process is gone.
        }
        numbers.Sort();
        return numbers;
    }
}
