using System.Buffers;
using Microsoft.Win32.SafeHandles;
using System.Collections.Concurrent;
using OpenMosix.Checkpoint.CantMove;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Home's side of a moved process's forwarded descriptors: its own duplicate of each of the deputy's (pidfd_getfd),
/// the calls the copy's node sends carried out on it (<see cref="HomeCalls"/>) and their results sent back. The copy
/// may only name descriptors home forwarded, or connections accepted through them; anything else ends the link.
/// </summary>
internal sealed class HomeForwarder : IDisposable
{
    private readonly ConcurrentDictionary<int, HomeDescriptor> _descriptors = new();
    private readonly HashSet<int> _inDeputy;
    private readonly int _pid;
    private readonly NodeLink _link;
    private readonly Func<int, int, long> _closeInDeputy;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationToken _token;
    private readonly ILogger _logger;
    private readonly HomeReadiness _readiness;
    private readonly HomeChildCalls? _children;
    private readonly HomePathCalls? _paths;
    private readonly HomeSocketCalls? _sockets;
    private readonly HomeTerminal _terminal;
    private readonly IDeputyHost? _deputies;

    /// <param name="closeInDeputy">closes a descriptor in the deputy (pid, fd), so that its other end sees it closed.</param>
    private HomeForwarder(int pid, IReadOnlyCollection<int> forwarded, NodeLink link, Func<int, int, long> closeInDeputy, ILogger logger, IDeputyHost? deputies,
        HomePaths homePaths, bool makeSockets)
    {
        _pid = pid;
        _link = link;
        _closeInDeputy = closeInDeputy;
        _logger = logger;
        _token = _stop.Token;
        _deputies = deputies;
        _inDeputy = [.. forwarded];
        _readiness = new HomeReadiness(notice => SendAsync(ForwardWire.Encode(notice)), pid);
        _terminal = new HomeTerminal(pid, SendAsync, logger);
        _children = deputies is null ? null : new HomeChildCalls(pid, deputies, reply => SendAsync(ForwardWire.Encode(reply)), logger, _token);
        if (deputies is not null && !homePaths.IsEmpty)
            _paths = new HomePathCalls(pid, deputies, homePaths, fd => _descriptors.TryGetValue(fd, out var d) ? d.Target : null, AddOpened,
                reply => SendAsync(ForwardWire.Encode(reply)), logger, _token);
        if (deputies is not null && makeSockets)
            _sockets = new HomeSocketCalls(pid, deputies, AddOpened, reply => SendAsync(ForwardWire.Encode(reply)), logger, _token);
        using var process = PidFd.Open(pid);
        foreach (var fd in forwarded) Add(fd, process.GetFd(fd));
    }

    /// <summary>
    /// Serves the descriptors of <paramref name="asked"/> that the move left at home (the deputy's own, checked again
    /// here): a copy's node that names any other gets EBADF for its calls on it.
    /// </summary>
    /// <param name="deputies">the deputy's keeper, to serve the copy's calls about the children it left at home.</param>
    /// <param name="homePaths">this node's home paths: files below them stayed here, and the copy's calls on paths below
    /// them are made here by the deputy.</param>
    /// <param name="makeSockets">the copy's new internet sockets are made here by the deputy (forwarding.sockets_created_away).</param>
    public static HomeForwarder Start(int pid, IReadOnlyList<int> asked, NodeLink link, Func<int, int, long> closeInDeputy, ILogger logger,
        IDeputyHost? deputies = null, HomePaths? homePaths = null, bool makeSockets = false)
    {
        homePaths ??= HomePaths.None;
        var atHome = Checkpoint.Engine.CheckpointEngine.ForwardableDescriptors(pid, homePaths);
        // A regular file is left here when the target lacked it (its accept said so).
        bool Kept(int fd) => atHome.Contains(fd) || (FileStatus.TryOf($"/proc/{pid}/fd/{fd}", out var st, out _) && st!.Type == FileType.Regular);
        var refused = asked.Where(fd => !Kept(fd)).ToList();
        if (refused.Count > 0)
            logger.LogWarning("Process {Pid}: node {Node} asked to forward fd {Fds}, which home did not keep for it", pid, link.PeerNode, string.Join(", ", refused));
        return new HomeForwarder(pid, [.. asked.Where(Kept)], link, closeInDeputy, logger, deputies, homePaths, makeSockets);
    }

    private void Add(int number, SafeFileHandle fd)
    {
        HomeDescriptor? descriptor = null;
        descriptor = new HomeDescriptor(number, fd, (call, handle) => Serve(descriptor!, call, handle));
        _descriptors[number] = descriptor;
        _readiness.Add(number, fd);
    }

    /// <summary>A file or socket the deputy made for the copy (its <paramref name="inDeputy"/>) becomes forwarded
    /// descriptor <paramref name="number"/>, which the deputy keeps it under; false when the copy's node gave that
    /// number to another meanwhile (the caller closes both).</summary>
    private bool AddOpened(int number, SafeFileHandle fd, int inDeputy)
    {
        if (_token.IsCancellationRequested || _descriptors.ContainsKey(number)) return false;
        Add(number, fd);
        KeptInDeputy(number, InDeputy(number, () => _deputies!.MoveDescriptor(_pid, inDeputy, number)));
        return true;
    }

    /// <summary>
    /// The deputy holds the copy's new number <paramref name="number"/> too (a connection accepted at home, a second
    /// name): the process has it when it comes home, as it has those forwarded when it moved (docs/forwarding.md).
    /// </summary>
    private void PutInDeputy(int number, SafeFileHandle fd)
    {
        if (_deputies is not null) KeptInDeputy(number, InDeputy(number, () => _deputies.PutDescriptor(_pid, fd, number)));
    }

    private long InDeputy(int number, Func<long> work)
    {
        try
        {
            return work();
        }
        catch (Exception e) when (e is SyscallException or InvalidOperationException or ProcessAccessException or IOException
                                      or Checkpoint.Tracing.InjectionException or NotSupportedException)
        {
            _logger.LogWarning("Process {Pid}: fd {Fd} could not be given to its deputy: {Reason}", _pid, number, e.Message);
            return -(long)Errno.EIO;
        }
    }

    /// <summary>Which numbers the deputy holds: closed there with the copy's close, and the process's own at home.</summary>
    private void KeptInDeputy(int number, long result)
    {
        if (result < 0)
        {
            // The copy keeps the descriptor while it stays; coming home, the process finds that number closed.
            _logger.LogWarning("Process {Pid}: its deputy could not keep fd {Fd} ({Error}); the process will not have it if it comes home",
                _pid, number, Errno.FromNegated(result).Describe());
            return;
        }
        lock (_inDeputy) _inDeputy.Add(number);
    }

    /// <summary>Takes a Forward frame from the copy's node; false for any other frame.</summary>
    public bool Take(Frame frame)
    {
        if (frame.Type != FrameType.Forward) return false;
        var call = ForwardWire.DecodeRequest(frame.Payload);
        if (ChildCallWire.IsChildCall(call.Op))
        {
            if (ChildCallWire.Problem(call) is { } problem) throw new LinkException(problem);
            if (_children is null) throw new LinkException($"home serves no {call.Op} for process {_pid}");
            _children.Take(call);
            return true;
        }
        if (PathCallWire.IsPathCall(call.Op))
        {
            if (PathCallWire.Problem(call) is { } problem) throw new LinkException(problem);
            if (_paths is null) throw new LinkException($"home has no home paths for process {_pid}");
            if (call.Op == ForwardOp.Open && _descriptors.ContainsKey((int)call.A2))
                throw new LinkException($"the copy's node wants a new forwarded descriptor as fd {call.A2}");
            _paths.Take(call);
            return true;
        }
        if (call.Op == ForwardOp.Socket)
        {
            if (_sockets is null) throw new LinkException($"home makes no sockets for process {_pid}");
            if (call.Fd is < 3 or > ForwardWire.MaxDescriptor || _descriptors.ContainsKey(call.Fd) || call.Address.Length != 0 || call.Data.Length != 0
                || call.A1 is < 0 or > uint.MaxValue || call.A2 is < 0 or > uint.MaxValue)
                throw new LinkException($"the copy's node wants a socket as fd {call.Fd}, type {call.A1}, protocol {call.A2}");
            _sockets.Take(call);
            return true;
        }
        if (call.Op == ForwardOp.BackgroundRead)
        {
            if (call.A1 is < (long)TerminalUse.Read or > (long)TerminalUse.Change)
                throw new LinkException($"the copy's node asks about a use {call.A1} of its terminal");
            _terminal.Take(call);
            return true;
        }
        if (call.Op is ForwardOp.Accept or ForwardOp.Duplicate && NewNumber(call) is var number
            && (number is < 3 or > ForwardWire.MaxDescriptor || _descriptors.ContainsKey((int)number)))
            throw new LinkException($"the copy's node wants a new forwarded descriptor as fd {number}");
        // A piece of a bulk write: its payload goes back to the link's pool once written (HomeDescriptor).
        if (call.Op is ForwardOp.Write or ForwardOp.WriteAt or ForwardOp.Send && call.Data.Length >= BulkPiece) call = call with { Payload = frame.Payload };
        if (!_descriptors.TryGetValue(call.Fd, out var descriptor) || !descriptor.Post(call))
            _ = SendAsync(ForwardWire.Encode(new ForwardReply(call.Id, -(long)Errno.EBADF)));
        return true;
    }

    /// <summary>Payloads from this size on are worth giving back: FramePool keeps large ones only.</summary>
    private const int BulkPiece = 64 * 1024;

    private static long NewNumber(ForwardRequest call) => call.Op == ForwardOp.Accept ? call.A1 : call.A0;

    private ForwardReply Serve(HomeDescriptor descriptor, ForwardRequest call, SafeFileHandle fd)
    {
        ForwardReply reply;
        // The copy drops what it read ahead before any other read: this one starts from the socket's head.
        if (call.Op is ForwardOp.Read or ForwardOp.Receive)
        {
            descriptor.Peeked = 0;
            descriptor.Pipe?.Forget();
        }
        switch (call.Op)
        {
            case ForwardOp.PeekAhead:
                return ServeRead(descriptor, call, fd, peek: true);
            case ForwardOp.Consumed:
                reply = new ForwardReply(call.Id, HomeAhead.Consume(descriptor, fd, call.A0, out var taken)) { Data = taken ?? ReadOnlyMemory<byte>.Empty };
                break;
            case ForwardOp.Close:
                reply = Close(descriptor, call, fd);
                break;
            case ForwardOp.Duplicate:
                reply = new ForwardReply(call.Id, _descriptors.TryAdd((int)call.A0, descriptor) ? 0 : -(long)Errno.EBUSY);
                if (reply.Result == 0)
                {
                    descriptor.Names++;
                    PutInDeputy((int)call.A0, fd);
                }
                break;
            case ForwardOp.Write or ForwardOp.WriteAt or ForwardOp.Send when call.A2 != 0:
                // A piece of a write sent ahead: none after a short or failed piece of the same write is written.
                if (descriptor.BrokenChain == call.A2)
                {
                    reply = new ForwardReply(call.Id, 0);
                    break;
                }
                reply = HomeCalls.Run(call, fd, _token, out _);
                if (reply.Result < call.Data.Length) descriptor.BrokenChain = call.A2;
                break;
            case ForwardOp.Bind or ForwardOp.Connect or ForwardOp.SetOption when HomeSocketCalls.Refusal(_pid, call, _logger) is < 0 and var refused:
                reply = new ForwardReply(call.Id, refused);
                break;
            case var _ when HomeCalls.ReadsIntoFrame(call):
                return ServeRead(descriptor, call, fd, peek: false);
            default:
                reply = HomeCalls.Run(call, fd, _token, out var accepted);
                if (accepted is not null)
                {
                    Add((int)call.A1, accepted);
                    PutInDeputy((int)call.A1, accepted);
                }
                break;
        }
        if (_token.IsCancellationRequested) return reply;
        // What the call changed of the descriptor's readiness reaches the copy before its result.
        if (!descriptor.Ended) _readiness.AfterCallAsync(descriptor.Key).GetAwaiter().GetResult();
        SendAsync(ForwardWire.Encode(reply)).GetAwaiter().GetResult();
        return reply;
    }

    /// <summary>A read (or a peek ahead) whose bytes go straight into its reply's frame, one from the pool.</summary>
    private ForwardReply ServeRead(HomeDescriptor descriptor, ForwardRequest call, SafeFileHandle fd, bool peek)
    {
        var frame = ForwardWire.RentReply((int)Math.Clamp(call.A0, 0, ForwardWire.MaxData));
        try
        {
            var n = peek
                ? HomeAhead.Peek(descriptor, fd, frame.AsSpan(ForwardWire.ReplyDataAt, (int)Math.Clamp(call.A0, 0, ForwardWire.MaxData)), _pid)
                : HomeCalls.ReadInto(call, fd, _token, frame, ForwardWire.ReplyDataAt);
            if (_token.IsCancellationRequested) return new ForwardReply(call.Id, n);
            if (!descriptor.Ended) _readiness.AfterCallAsync(descriptor.Key).GetAwaiter().GetResult();
            // A datagram longer than asked (MSG_TRUNC) returns its length with what fitted.
            var data = n > 0 ? (int)Math.Min(n, Math.Clamp(call.A0, 0, ForwardWire.MaxData)) : 0;
            // A peek of a checked pipe says so (an extra of one byte): the copy then waits for each consume's answer.
            var length = peek && descriptor.Pipe is { Checked: true }
                ? ForwardWire.FinishCheckedReply(frame, call.Id, n, data)
                : ForwardWire.FinishReply(frame, call.Id, n, data);
            SendAsync(frame.AsMemory(0, length)).GetAwaiter().GetResult();
            return new ForwardReply(call.Id, n);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>Forgets one of the copy's numbers for the descriptor; closes it (and the deputy's) with the last.</summary>
    private ForwardReply Close(HomeDescriptor descriptor, ForwardRequest call, SafeFileHandle fd)
    {
        var number = call.Fd;
        _descriptors.TryRemove(number, out _);
        if (--descriptor.Names == 0)
        {
            descriptor.Ended = true;
            _readiness.Remove(descriptor.Key);
            fd.Dispose();
            descriptor.Pipe?.Dispose();
        }
        bool inDeputy;
        lock (_inDeputy) inDeputy = _inDeputy.Remove(number);
        return new ForwardReply(call.Id, inDeputy ? CloseInDeputy(number) : 0);
    }

    private long CloseInDeputy(int fd)
    {
        try
        {
            return _closeInDeputy(_pid, fd);
        }
        catch (Exception e) when (e is SyscallException or InvalidOperationException or ProcessAccessException)
        {
            _logger.LogWarning("Process {Pid}: fd {Fd} could not be closed in its deputy: {Reason}", _pid, fd, e.Message);
            return 0;
        }
    }

    private async Task SendAsync(ReadOnlyMemory<byte> frame)
    {
        try
        {
            await _link.SendAsync(FrameType.Forward, frame, _token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LinkException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The link is gone: the relay finds out and ends the stay.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _terminal.Dispose();
        _readiness.Dispose();
        _children?.Dispose();
        foreach (var descriptor in _descriptors.Values) descriptor.Dispose();
        _descriptors.Clear();
        _stop.Dispose();
    }
}
