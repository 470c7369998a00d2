using Microsoft.Win32.SafeHandles;
using System.Collections.Concurrent;

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
    private readonly HomeChildCalls? _children;

    /// <param name="closeInDeputy">closes a descriptor in the deputy (pid, fd), so that its other end sees it closed.</param>
    private HomeForwarder(int pid, IReadOnlyCollection<int> forwarded, NodeLink link, Func<int, int, long> closeInDeputy, ILogger logger, IDeputyHost? deputies)
    {
        _pid = pid;
        _link = link;
        _closeInDeputy = closeInDeputy;
        _logger = logger;
        _token = _stop.Token;
        _inDeputy = [.. forwarded];
        _children = deputies is null ? null : new HomeChildCalls(pid, deputies, SendAsync, logger, _token);
        using var process = PidFd.Open(pid);
        foreach (var fd in forwarded) Add(fd, process.GetFd(fd));
    }

    /// <summary>
    /// Serves the descriptors of <paramref name="asked"/> that the move left at home (the deputy's own, checked again
    /// here): a copy's node that names any other gets EBADF for its calls on it.
    /// </summary>
    /// <param name="deputies">the deputy's keeper, to serve the copy's calls about the children it left at home.</param>
    public static HomeForwarder Start(int pid, IReadOnlyList<int> asked, NodeLink link, Func<int, int, long> closeInDeputy, ILogger logger,
        IDeputyHost? deputies = null)
    {
        var atHome = Checkpoint.Engine.CheckpointEngine.ForwardableDescriptors(pid);
        var refused = asked.Where(fd => !atHome.Contains(fd)).ToList();
        if (refused.Count > 0)
            logger.LogWarning("Process {Pid}: node {Node} asked to forward fd {Fds}, which home did not keep for it", pid, link.PeerNode, string.Join(", ", refused));
        return new HomeForwarder(pid, [.. asked.Where(atHome.Contains)], link, closeInDeputy, logger, deputies);
    }

    private void Add(int number, SafeFileHandle fd) =>
        _descriptors[number] = new HomeDescriptor(number, fd, (call, handle) => Serve(number, call, handle));

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
        if (call.Op == ForwardOp.Accept && (call.A1 is < 3 or > 1 << 20 || _descriptors.ContainsKey((int)call.A1)))
            throw new LinkException($"the copy's node wants an accepted connection as fd {call.A1}");
        if (!_descriptors.TryGetValue(call.Fd, out var descriptor) || !descriptor.Post(call))
            _ = SendAsync(new ForwardReply(call.Id, -(long)Errno.EBADF));
        return true;
    }

    private ForwardReply Serve(int number, ForwardRequest call, SafeFileHandle fd)
    {
        ForwardReply reply;
        if (call.Op == ForwardOp.Close)
        {
            _descriptors.TryRemove(number, out _);
            fd.Dispose();
            bool inDeputy;
            lock (_inDeputy) inDeputy = _inDeputy.Remove(number);
            reply = new ForwardReply(call.Id, inDeputy ? CloseInDeputy(number) : 0);
        }
        else
        {
            reply = HomeCalls.Run(call, fd, _token, out var accepted);
            if (accepted is not null) Add((int)call.A1, accepted);
        }
        if (!_token.IsCancellationRequested) SendAsync(reply).GetAwaiter().GetResult();
        return reply;
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

    private async Task SendAsync(ForwardReply reply)
    {
        try
        {
            await _link.SendAsync(FrameType.Forward, ForwardWire.Encode(reply), _token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LinkException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The link is gone: the relay finds out and ends the stay.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _children?.Dispose();
        foreach (var descriptor in _descriptors.Values) descriptor.Dispose();
        _descriptors.Clear();
        _stop.Dispose();
    }
}
