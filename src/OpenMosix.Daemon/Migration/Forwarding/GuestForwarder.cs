using System.Buffers.Binary;
using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux.Seccomp;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// The copy's node's side of forwarded descriptors: a thread takes each call the forwarding filter hands over
/// (SECCOMP_IOCTL_NOTIF_RECV), and a task per call reads its arguments from the copy's memory, sends it home,
/// writes what home returned into the copy and answers the call. The copy's memory is touched only while its call
/// still waits (SECCOMP_IOCTL_NOTIF_ID_VALID). Bytes home read for a call a signal interrupted are kept for the
/// next read; bytes home wrote for one are not written again when the call is restarted.
/// </summary>
internal sealed partial class GuestForwarder : IDisposable
{
    private const int ListenSliceMs = 250, HoldSliceMs = 10;
    private readonly int _pid;
    private readonly SafeFileHandle _listener;
    // Replaced when a new omd at home takes the process over on a new link (only a copy forwarding no descriptor).
    private volatile NodeLink _link;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<uint, (ForwardOp Op, TaskCompletionSource<ForwardReply> Done)> _pending = new();
    private readonly HashSet<int> _open;
    // Every number the filter hands over besides the reserved range: the forwarded ones at restore.
    private readonly HashSet<int> _covered;
    private readonly int _reservedFrom, _reservedTop;
    private readonly Thread _thread;
    private int _nextId;
    private volatile bool _stopped;
    // While the copy is sent home: no new call is taken (each waits in the kernel and is restarted wherever the
    // process runs next), and the image is taken only once the calls under way have their answers.
    private volatile bool _holding;
    private int _active;

    public GuestForwarder(int pid, SafeFileHandle listener, IReadOnlyList<int> forwarded, IReadOnlyDictionary<int, ForwardMirrorEnds> mirrors,
        int reservedFrom, int reservedTop, NodeLink link, ILogger logger)
    {
        _pid = pid;
        _listener = listener;
        _link = link;
        _logger = logger;
        _open = [.. forwarded];
        _covered = [.. forwarded];
        AddMirrors(mirrors);
        _reservedFrom = reservedFrom;
        _reservedTop = reservedTop;
        _thread = new Thread(Listen) { IsBackground = true, Name = $"forwarding for {pid}" };
    }

    public void Start() => _thread.Start();

    /// <summary>Told of each number the copy gets while away (true) or closes (false), all held by its deputy at home
    /// under that number: its trip home records them as forwarded (<see cref="Engine.IMigrationEngine.ForwardedLater"/>).</summary>
    public Action<int, bool>? NumberChanged { get; init; }

    /// <summary>Whether a descriptor of the copy is served at home now: such a copy cannot change links, as the
    /// descriptor lives in the deputy of the omd that died.</summary>
    public bool ForwardsDescriptors
    {
        get
        {
            lock (_open) return _open.Count > 0;
        }
    }

    /// <summary>Calls go on over <paramref name="link"/>, a new omd's at home (a takeover).</summary>
    public void Relink(NodeLink link) => _link = link;

    private void Listen()
    {
        try
        {
            while (!_stopped)
            {
                if (_holding)
                {
                    Thread.Sleep(HoldSliceMs);
                    continue;
                }
                if (!ForwardedCalls.WaitReady(_listener, write: false, ListenSliceMs)) continue;
                if (Readiness.IsHungUp(_listener)) return; // the copy has ended
                // Counted before the hold is looked at again (both full fences, as QuiesceAsync's): either the hold
                // is seen here and nothing is taken, or the quiesce sees this call under way and waits for it. A call
                // taken after the quiesce counted none was served at home while the copy was frozen, and the copy
                // made it again where it went.
                Interlocked.Increment(ref _active);
                if (_holding)
                {
                    Interlocked.Decrement(ref _active);
                    TakeWhileHeld();
                    continue;
                }
                if (SeccompListener.Receive(_listener) is not { } notice)
                {
                    Interlocked.Decrement(ref _active);
                    continue;
                }
                _ = Task.Run(() => HandleAsync(notice));
            }
        }
        catch (Exception e) when (e is SyscallException or ObjectDisposedException)
        {
            if (!_stopped) _logger.LogWarning("Process {Pid}: forwarded calls are no longer served: {Reason}", _pid, e.Message);
        }
    }

    /// <summary>A Forward frame from home (a result); false for any other frame.</summary>
    public bool Take(Frame frame)
    {
        if (frame.Type != FrameType.Forward) return false;
        if (ForwardWire.IsNotice(frame.Payload))
        {
            var notice = ForwardWire.DecodeNotice(frame.Payload);
            if (notice.Fd == ForwardWire.TerminalNotice) ShowHomeTerminal(notice.Ready);
            else ShowReadiness(notice);
            return true;
        }
        var reply = ForwardWire.DecodeReply(frame.Payload);
        if (!_pending.TryRemove(reply.Id, out var call)) throw new LinkException($"home sent the result of forwarded call {reply.Id}, which is not waiting");
        if (ChildCallWire.IsChildCall(call.Op) && ChildCallWire.Problem(call.Op, reply) is { } problem) throw new LinkException(problem);
        call.Done.TrySetResult(reply);
        return true;
    }

    /// <summary>
    /// A Forward frame offered on the link's reading thread (<see cref="NodeLink.ReceiveAsync(FrameSink, CancellationToken)"/>)
    /// in the record buffer it was opened in: the result of a read or a peek that brought bytes is copied into a
    /// <see cref="ReadPieces"/> array (its <see cref="ForwardReply.Lease"/>) and handed to its call, with no array of its
    /// own length and no hop through the link's queue. False for anything else (taken by <see cref="Take"/> after the queue).
    /// </summary>
    public bool TakeInline(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < LeaseFrom || ForwardWire.IsNotice(payload)) return false;
        if (!_pending.TryGetValue(BinaryPrimitives.ReadUInt32LittleEndian(payload), out var waiting)
            || waiting.Op is not (ForwardOp.PeekAhead or ForwardOp.Read or ForwardOp.Receive)) return false;
        var lease = ReadPieces.Rent();
        payload.CopyTo(lease);
        ForwardReply reply;
        try
        {
            reply = ForwardWire.DecodeReply(lease.AsMemory(0, payload.Length)) with { Lease = lease };
        }
        catch (LinkException)
        {
            // The queue's Take finds the same fault and ends the link with it.
            ReadPieces.Return(lease);
            return false;
        }
        if (!_pending.TryRemove(reply.Id, out var call))
        {
            ReadPieces.Return(lease);
            return false;
        }
        call.Done.TrySetResult(reply);
        return true;
    }

    /// <summary>Replies from this size on are taken into a <see cref="ReadPieces"/> array: below it a new array is cheap.</summary>
    private const int LeaseFrom = 64 * 1024;

    /// <summary>What a call is answered: a result, nothing (it is no longer waiting), or "let the kernel run it".</summary>
    private readonly record struct Outcome(long Result, Action? Undelivered = null, bool Gone = false, bool Local = false)
    {
        public static readonly Outcome Interrupted = new(0, Gone: true);
        /// <summary>Answered already by its handler.</summary>
        public static readonly Outcome Done = new(0, Gone: true);
        public static readonly Outcome RunLocally = new(0, Local: true);
    }

    /// <summary>
    /// Before the copy is frozen to go home: takes no new call and waits (at most <paramref name="bound"/>) until the
    /// calls under way are answered, so that none is carried out at home and then restarted there by the process.
    /// False when one still waits (a read at home with nothing to read). The wait for restarts before it has a bound
    /// of its own: spent on them, it left none for the calls under way, which then went on at home during the freeze.
    /// </summary>
    public async Task<bool> QuiesceAsync(TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        // A call interrupted after home carried it out (a pre-copy's set-up, a signal) is made again by the copy, and
        // served here it finds what home did. One the copy is still stopped in at the freeze is recorded as returned
        // (ResultsOf); one it makes again in its own code (a retry after EINTR) is waited for here, within the bound.
        while (HasKept() && DateTime.UtcNow < deadline) await Task.Delay(HoldSliceMs).ConfigureAwait(false);
        _holding = true;
        Interlocked.MemoryBarrier();
        deadline = DateTime.UtcNow + bound;
        while (Volatile.Read(ref _active) > 0 && DateTime.UtcNow < deadline) await Task.Delay(HoldSliceMs).ConfigureAwait(false);
        return Volatile.Read(ref _active) == 0;
    }

    /// <summary>The calls under way, for a log line: those waiting for home's result, by op.</summary>
    public string Waiting => $"{Volatile.Read(ref _active)} under way, at home: {string.Join(", ", _pending.Values.Select(c => c.Op))}";

    /// <summary>The copy stays here after all: its calls are taken again.</summary>
    public void Resume()
    {
        _holding = false;
        List<SeccompNotice> held;
        lock (_held)
        {
            held = [.. _held];
            _held.Clear();
        }
        foreach (var notice in held)
        {
            Interlocked.Increment(ref _active);
            _ = Task.Run(() => HandleAsync(notice));
        }
    }

    // Calls taken while held and left unanswered: the freeze interrupts them and they are made again wherever the
    // process runs next (not served here, they were carried out nowhere); served after all if the copy stays.
    private readonly List<SeccompNotice> _held = [];

    /// <summary>
    /// While held, a signal the copy sends itself (pthread_kill, raise) is still let through at once: held, it would
    /// be made again at home with this node's PID in its arguments, unknown there. Any other call waits. (The filter
    /// lets those through itself, as it knows the copy's PID; this stays the rule for any that reaches the listener.)
    /// </summary>
    private void TakeWhileHeld()
    {
        if (SeccompListener.Receive(_listener) is not { } notice) return;
        var toSelf = notice.Nr switch
        {
            SyscallNr.Tgkill or SyscallNr.Kill or SyscallNr.RtSigqueueinfo => (int)(uint)notice.Args[0] == _pid,
            _ => false,
        };
        if (toSelf)
        {
            try
            {
                SeccompListener.Continue(_listener, notice.Id);
            }
            catch (SyscallException)
            {
                // It is no longer waiting (interrupted): it is made again and taken then.
            }
            return;
        }
        lock (_held) _held.Add(notice);
    }

    private async Task HandleAsync(SeccompNotice notice)
    {
        try
        {
            await AnswerAsync(notice).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }

    private async Task AnswerAsync(SeccompNotice notice)
    {
        Outcome outcome;
        try
        {
            outcome = await ServeAsync(notice).ConfigureAwait(false);
        }
        catch (SyscallException e) when (e.Error is Errno.EFAULT or Errno.ESRCH or Errno.EINVAL)
        {
            outcome = new Outcome(-(long)Errno.EFAULT);
        }
        try
        {
            if (outcome.Gone) return;
            var answered = outcome.Local ? SeccompListener.Continue(_listener, notice.Id) : SeccompListener.Answer(_listener, notice.Id, outcome.Result);
            if (!answered) outcome.Undelivered?.Invoke();
        }
        catch (Exception e) when (e is SyscallException or ObjectDisposedException)
        {
            // The copy ended, or the stay did: nobody waits for this answer.
        }
    }

    private Task<Outcome> ServeAsync(SeccompNotice n)
    {
        if (ServeTerminalCall(n) is { } terminalCall) return terminalCall;
        if (ServeChildCall(n) is { } childCall) return childCall;
        if (ServePathCall(n) is { } pathCall) return pathCall;
        if (ServeSocketCreation(n) is { } socketCall) return socketCall;
        var fd = (int)(uint)n.Args[0];
        bool open;
        lock (_open) open = _open.Contains(fd);
        // A negative number is no descriptor: AT_FDCWD (a stat of a path, from a filter made before such calls were
        // let through) runs here, and the kernel answers any other.
        if (!open)
            return Task.FromResult(fd < 0 || (fd >= _reservedFrom && fd < _reservedTop) ? Outcome.RunLocally : new Outcome(-(long)Errno.EBADF));
        return n.Nr switch
        {
            SyscallNr.Read => ReadAsync(n, fd, [(n.Args[1], n.Args[2])], ForwardOp.Read),
            SyscallNr.Readv => ReadAsync(n, fd, ReadIoVecs(n.Args[1], n.Args[2]), ForwardOp.Read),
            SyscallNr.Pread64 => ReadAsync(n, fd, [(n.Args[1], n.Args[2])], ForwardOp.ReadAt, (long)n.Args[3]),
            SyscallNr.Getdents64 => ReadAsync(n, fd, [(n.Args[1], n.Args[2])], ForwardOp.ReadDirectory),
            SyscallNr.Write => WriteAsync(n, fd, [(n.Args[1], n.Args[2])], ForwardOp.Write),
            SyscallNr.Writev => WriteAsync(n, fd, ReadIoVecs(n.Args[1], n.Args[2]), ForwardOp.Write),
            SyscallNr.Pwrite64 => WriteAsync(n, fd, [(n.Args[1], n.Args[2])], ForwardOp.WriteAt, offset: (long)n.Args[3]),
            SyscallNr.Lseek => SimpleAsync(new ForwardRequest(0, ForwardOp.Seek, fd, (long)n.Args[1], (long)n.Args[2])),
            SyscallNr.Fcntl => FcntlAsync(n, fd, (long)n.Args[1], (long)n.Args[2]),
            SyscallNr.Close => CloseAsync(fd),
            SyscallNr.Fstat => StatusAsync(fd, n.Args[1]),
            SyscallNr.Newfstatat => ReadByte(n.Args[1]) == 0 && (n.Args[3] & AtEmptyPath) != 0 ? StatusAsync(fd, n.Args[2]) : Task.FromResult(Outcome.RunLocally),
            _ => ServeDescriptorAsync(n, fd),
        };
    }

    private const ulong AtEmptyPath = 0x1000;

    private async Task<Outcome> SimpleAsync(ForwardRequest request) => new((await CallAsync(request).ConfigureAwait(false)).Result);

    private Task<Outcome> FcntlAsync(SeccompNotice n, int fd, long command, long argument) => command switch
    {
        FDupFd or FDupFdCloexec => FcntlDuplicateAsync(n, fd, command, argument),
        ForwardedCalls.FGetFl => SimpleAsync(new ForwardRequest(0, ForwardOp.GetFlags, fd)),
        ForwardedCalls.FSetFl => ForgetWriteMode(SimpleAsync(new ForwardRequest(0, ForwardOp.SetFlags, fd, argument))),
        // close-on-exec belongs to the copy's own descriptor table: its placeholder holds it
        ForwardedCalls.FGetFd or ForwardedCalls.FSetFd => Task.FromResult(Outcome.RunLocally),
        _ => Task.FromResult(new Outcome(-(long)Errno.EINVAL)),
    };

    private async Task<Outcome> CloseAsync(int fd)
    {
        ForgetNumber(fd);
        ForgetKept(fd);
        ForgetBehind(fd);
        ForgetAhead(fd);
        // The placeholder of a number forwarded at restore stays: that number must not be given to a file the program
        // opens later, which the filter would still hand over. One of the reserved range goes (the kernel closes it):
        // a descriptor of the program's own under such a number is let through, and the number is free again for
        // the next file opened at home (there are only so many).
        var result = (await CallAsync(new ForwardRequest(0, ForwardOp.Close, fd)).ConfigureAwait(false)).Result;
        return _covered.Contains(fd) || result < 0 ? new(result) : Outcome.RunLocally;
    }

    private async Task<Outcome> StatusAsync(int fd, ulong buffer)
    {
        var reply = await CallAsync(new ForwardRequest(0, ForwardOp.Status, fd)).ConfigureAwait(false);
        if (reply.Result < 0) return new(reply.Result);
        ProcessMemory.Write(_pid, buffer, reply.Data.Span);
        return new(0);
    }

    /// <summary>Sends a call home and waits for its result; when the link is gone, the error the kernel would give.</summary>
    private async Task<ForwardReply> CallAsync(ForwardRequest request) =>
        await (await SendCallAsync(request.Op, ForwardWire.Encode(request)).ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>
    /// Sends a call (its frame made with id 0, given its id here) and returns, once the link has taken the frame, the
    /// task of its result: the frame may be reused from then on.
    /// </summary>
    private async Task<Task<ForwardReply>> SendCallAsync(ForwardOp op, Memory<byte> frame)
    {
        var id = (uint)Interlocked.Increment(ref _nextId);
        if (id == 0) id = (uint)Interlocked.Increment(ref _nextId); // 0 marks home's readiness notices
        var done = new TaskCompletionSource<ForwardReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = (op, done);
        if (_stopped) Fail(id);
        ForwardWire.StampId(frame.Span, id);
        try
        {
            await _link.SendAsync(FrameType.Forward, frame).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LinkException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            Fail(id);
        }
        return done.Task;
    }

    private void Fail(uint id)
    {
        if (!_pending.TryRemove(id, out var call)) return;
        var errno = call.Op is ForwardOp.Send or ForwardOp.Receive or ForwardOp.Accept or ForwardOp.Shutdown ? Errno.ECONNRESET : Errno.EIO;
        call.Done.TrySetResult(new ForwardReply(id, -(long)errno));
    }

    private byte ReadByte(ulong address)
    {
        Span<byte> one = stackalloc byte[1];
        ProcessMemory.Read(_pid, address, one);
        return one[0];
    }

    /// <summary>The link is gone or the stay is over: calls still waiting fail as the kernel would fail them.</summary>
    public void Dispose()
    {
        _stopped = true;
        foreach (var id in _pending.Keys) Fail(id);
        if (_thread.IsAlive) _thread.Join(ListenSliceMs * 4);
        _listener.Dispose();
        lock (_open)
        {
            foreach (var mirror in _mirrors.Values) mirror.Dispose();
            _mirrors.Clear();
        }
    }
}
