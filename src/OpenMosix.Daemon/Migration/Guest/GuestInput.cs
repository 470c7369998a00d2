using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// The copy's stdin on this node. What home relays is queued and written into it by a thread of its own, so that a
/// copy that reads slowly never holds up the messages behind its input (a trip home would wait for it to read all the
/// link holds). It counts what it wrote: what the copy has read is that less what still sits in its pipe, and home
/// keeps the rest until it knows (<see cref="Protocol.InputTaken"/>); it writes at most one page after making sure
/// the pipe has room, so it can be held at the copy's freeze. A terminal's queue cannot be told apart from what the
/// program took: its input counts as read once written.
/// </summary>
internal sealed class GuestInput : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    private const int Page = 4096;
    private readonly object _gate = new();
    private readonly Queue<byte[]?> _queue = new(); // null: the end of input
    private readonly SafeFileHandle? _handle;
    private readonly FileStatus? _pipe;
    private readonly Task _writer;
    private readonly InputTally? _tally;
    private bool _held, _paused, _disposed, _writing;
    private volatile bool _ended;
    private Action? _whenEnded;
    // A hold drops what was queued, the page being written included: home sends it again from the count on.
    private int _epoch;
    private long _written;
    // Bytes taken from home this stay: written, or queued to be (a hold drops the queue, and home sends it again).
    private long _received;
    // Bytes taken from home since this input was made, never set back (a hold drops bytes, home sends a terminal's
    // none again): home counts what it sent the same way, and what it sent past this was still on the link.
    private long _taken;
    // The writer's chunk and how far it wrote it, as of its last pause between pages (under the gate).
    private byte[]? _current;
    private int _currentOffset;

    /// <param name="tally">where the count of what was written is kept for a next omd (<see cref="InputTally"/>), owned.</param>
    /// <param name="start">what an omd that died had written already: the counts go on from there.</param>
    public GuestInput(SafeFileHandle? handle, bool terminal, InputTally? tally = null, long start = 0)
    {
        _handle = handle;
        _tally = tally;
        _written = _received = start;
        _pipe = handle is null || terminal ? null : FileStatus.Of($"/proc/self/fd/{handle.DangerousGetHandle()}");
        Open = handle is not null;
        _writer = handle is null ? Task.CompletedTask : Blocking.Run(WriteAll);
    }

    /// <summary>How often home hears how much was written: home relays no more than a window ahead of it.</summary>
    public const long ProgressStep = 256 << 10;

    /// <summary>
    /// Whether the copy's terminal holds input it has not read; null when it cannot be told. Set, input to a terminal
    /// in canonical mode is written one line at a time, the next once the copy has read the last: the copy's terminal
    /// is EXTPROC (home's edits lines), and such a terminal hands a read every line queued, where home's hands it one,
    /// so a reader that buffers (stdio, Python's sys.stdin) took lines it never used and they went with it.
    /// </summary>
    public Func<bool?>? TerminalInputQueued { get; init; }

    private static readonly TimeSpan LongestLineWait = TimeSpan.FromMilliseconds(50);

    /// <summary>Told, on the writer's thread, how much was written so far, every <see cref="ProgressStep"/> bytes.</summary>
    public Action<long>? Progress { get; set; }

    /// <summary>Whether there is an input to write to (false once its end was queued, or when it has none).</summary>
    public bool Open { get; private set; }

    /// <summary>Bytes written into the copy's stdin since it came here.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Bytes home relayed this stay that are written into the copy's stdin or queued to be: a new omd taking
    /// over home relays what follows them.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Whether the end of input reached the copy (its pipe is closed).</summary>
    public bool Ended => _ended;

    /// <summary>Takes a frame of input from home (stdio for fd 0, or its end); false for any other frame.</summary>
    public bool Take(Frame frame)
    {
        switch (frame.Type)
        {
            case FrameType.Stdio when Open && frame.Payload.Length > 1 && frame.Payload[0] == 0:
                Enqueue(frame.Payload[1..]);
                return true;
            case FrameType.StdioEnd when Open:
                End();
                return true;
            // A new omd taking over home reads its stdin on from where the last one stopped: at its end, again.
            case FrameType.StdioEnd when _handle is not null && frame.Payload is [0]:
                return true;
            default:
                return false;
        }
    }

    /// <summary>End of input: the copy reads end of file once it has read the rest.</summary>
    public void End()
    {
        Enqueue(null);
        Open = false;
    }

    private void Enqueue(byte[]? bytes)
    {
        lock (_gate)
        {
            _queue.Enqueue(bytes);
            if (bytes is not null)
            {
                Interlocked.Add(ref _received, bytes.Length);
                _taken += bytes.Length;
            }
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// The copy froze for a trip home: nothing more is written (what is queued is dropped, home has it) and the
    /// counts are final once this returns. <see cref="Resume"/> if it stays.
    /// </summary>
    public void Hold()
    {
        lock (_gate)
        {
            _held = true;
            _epoch++;
            _queue.Clear();
            while (_writing) Monitor.Wait(_gate);
            _current = null;
            Interlocked.Exchange(ref _received, Written);
        }
    }

    /// <summary>
    /// The copy ended: nothing more is written, and what was taken from home but not written (in order) is returned
    /// with the count of all bytes taken (<paramref name="taken"/>), for home's terminal.
    /// </summary>
    public byte[] TakeUnwritten(out long taken)
    {
        lock (_gate)
        {
            _held = true;
            while (_writing) Monitor.Wait(_gate);
            _epoch++;
            var left = new MemoryStream();
            if (_current is { } current) left.Write(current, _currentOffset, current.Length - _currentOffset);
            foreach (var bytes in _queue)
                if (bytes is not null) left.Write(bytes);
            _queue.Clear();
            _current = null;
            taken = _taken;
            return left.ToArray();
        }
    }

    /// <summary>Throws away what was taken from home and not written yet (the terminal at home threw its typed-ahead
    /// keys away when ^C made a signal); writing goes on with what comes next.</summary>
    public void DropUnwritten()
    {
        lock (_gate)
        {
            while (_writing) Monitor.Wait(_gate);
            _epoch++;
            _queue.Clear();
            _current = null;
        }
    }

    /// <summary>
    /// The copy froze for a checkpoint: the writer stops between pages, dropping nothing, so that what it wrote and
    /// what sits in the pipe can be counted together; <see cref="Unpause"/> after.
    /// </summary>
    public void Pause()
    {
        lock (_gate)
        {
            _paused = true;
            while (_writing) Monitor.Wait(_gate);
        }
    }

    public void Unpause()
    {
        lock (_gate)
        {
            _paused = false;
            Monitor.PulseAll(_gate);
        }
    }

    public void Resume()
    {
        lock (_gate)
        {
            _held = false;
            // An end of input dropped by the hold comes again.
            Open = _handle is not null && !_ended;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Bytes the copy has not read yet: in its pipe, found through our write end or, once that is closed,
    /// through the copy's own fd 0 if that is still the pipe. Zero for a terminal; null when it cannot be told (the
    /// copy put another file on fd 0): never more is taken as read than was.</summary>
    public long? Unread(int copy)
    {
        if (_pipe is null || _handle is null) return 0;
        try
        {
            if (!_ended) return PipePeek.Unread(_handle);
        }
        catch (ObjectDisposedException)
        {
            // Closed at the end of input just now: the copy's end tells.
        }
        try
        {
            using var pidfd = PidFd.Open(copy);
            using var stdin = pidfd.GetFd(0);
            var now = FileStatus.Of($"/proc/self/fd/{stdin.DangerousGetHandle()}");
            return (now.Device, now.Inode) == (_pipe.Device, _pipe.Inode) ? PipePeek.Unread(stdin) : null;
        }
        catch (Exception e) when (e is SyscallException or ProcessAccessException or IOException)
        {
            // The copy closed its stdin, or is gone: nothing it could still read.
            return 0;
        }
    }

    /// <summary>Bytes the copy has read so far (a lower bound while it runs; 0 when it cannot be told).</summary>
    public long Read(int copy)
    {
        var written = Written;
        return Unread(copy) is { } unread ? Math.Max(0, written - unread) : 0;
    }

    private int WriteAll()
    {
        var reported = 0L;
        var lineWait = TimeSpan.FromMilliseconds(1);
        byte[]? chunk = null;
        var (offset, epoch) = (0, 0);
        Action? ended = null;
        while (true)
        {
            lock (_gate)
            {
                _writing = false;
                (_current, _currentOffset) = (epoch == _epoch ? chunk : null, offset);
                Monitor.PulseAll(_gate);
                while (!_disposed && (_held || _paused || ((chunk is null || epoch != _epoch) && _queue.Count == 0))) Monitor.Wait(_gate);
                if (_disposed) return 0;
                if (chunk is null || epoch != _epoch)
                {
                    chunk = _queue.Dequeue();
                    (offset, epoch) = (0, _epoch);
                    if (chunk is null)
                    {
                        _ended = true;
                        _handle!.Dispose();
                        ended = _whenEnded;
                        break;
                    }
                }
                _writing = true;
            }
            // Outside the lock: a hold waits for this page, never for the copy to read.
            if (!Readiness.WaitWritable(_handle!, Poll)) continue;
            var n = Math.Min(Page, chunk.Length - offset);
            if (LineAtATime() is { } ends)
            {
                // The copy has not read the last line yet: the next waits (and the loop lets a hold in meanwhile).
                if (TerminalInputQueued!() == true)
                {
                    Thread.Sleep(lineWait);
                    lineWait = TimeSpan.FromTicks(Math.Min(lineWait.Ticks * 2, LongestLineWait.Ticks));
                    continue;
                }
                lineWait = TimeSpan.FromMilliseconds(1);
                var end = chunk.AsSpan(offset, n).IndexOfAny(ends);
                if (end >= 0) n = end + 1;
            }
            try
            {
                Descriptors.WriteAll(_handle!, chunk.AsSpan(offset, n));
            }
            catch (SyscallException)
            {
                // The guest closed its stdin: what home sends has nowhere to go, as at home.
            }
            offset += n;
            if (offset == chunk.Length) chunk = null;
            var written = Interlocked.Add(ref _written, n);
            RecordTally(written);
            if (written - reported >= ProgressStep)
            {
                reported = written;
                Progress?.Invoke(written);
            }
        }
        // Outside the lock: what is told may take a while (a keeper replaced).
        ended?.Invoke();
        return 0;
    }

    /// <summary>The bytes that end a line of the copy's terminal when it is in canonical mode and its queue can be seen
    /// (newline, and the modes' EOF, EOL and EOL2 characters); null otherwise: bytes are written as they come.</summary>
    private byte[]? LineAtATime()
    {
        if (TerminalInputQueued is null || _pipe is not null || _handle is null) return null;
        // The master's TCGETS answers the slave's modes: the program's own.
        if (Terminal.ReadModes(_handle) is not { } modes || !Terminal.IsCanonical(modes)) return null;
        return Terminal.LineEnds(modes);
    }

    /// <summary>What the tally holds is what home sends again from if this omd dies now.</summary>
    private void RecordTally(long written)
    {
        try
        {
            _tally?.Record(written);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // A memory file refuses nothing but a closed handle: the stay is over.
        }
    }

    /// <summary>The tally the keeper is given a copy of; null when none is kept.</summary>
    public SafeFileHandle? Tally => _tally?.Handle;

    /// <summary>
    /// <paramref name="action"/> runs once the end of input has reached the copy (its pipe closed here), at once if
    /// it already has: another holder of the pipe's write end (the guest's keeper) must let go of it too, or the copy
    /// never reads end of file.
    /// </summary>
    public void WhenEnded(Action action)
    {
        lock (_gate)
        {
            if (!_ended)
            {
                _whenEnded += action;
                return;
            }
        }
        action();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
        _writer.Wait(TimeSpan.FromSeconds(1));
        if (!_ended) _handle?.Dispose();
        _tally?.Dispose();
    }
}
