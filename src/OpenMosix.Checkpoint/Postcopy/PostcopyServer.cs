using Microsoft.Win32.SafeHandles;
using System.Diagnostics;

namespace OpenMosix.Checkpoint.Postcopy;

public enum PostcopyOutcome
{
    /// <summary>Every pending page was delivered: the process no longer needs its page source.</summary>
    AllPagesIn,
    /// <summary>The process ended (exit, exec, a signal) before it had all its pages.</summary>
    ProcessGone,
    /// <summary>Its pages could not be had (or serving was stopped): the process was killed rather than let run on
    /// with pages it does not have.</summary>
    Killed,
}

/// <summary>
/// Serves a post-copied process's missing pages on a thread of its own: faults first (the faulting page and a few
/// after it), and between them the rest in address order, until every page is in. A fork makes a server for the
/// child (its pages still missing are the parent's); a move, discard or unmap of memory updates what is pending.
/// When the page source fails, or <see cref="Dispose"/> comes first, the process is killed: a page it lacks would
/// otherwise become a zero page once the userfaultfd is closed.
/// </summary>
public sealed partial class PostcopyServer : IDisposable
{
    private const ulong PageSize = 4096, FaultWindow = 16 * PageSize, PushChunk = 64 * PageSize;
    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(50);

    private readonly UserFaultFd _fd;
    private readonly PendingPages _pending;
    private readonly IPageSource _source;
    private readonly PidFd? _process;
    private readonly bool _push;
    private readonly ILogger _logger;
    private readonly ulong _probe;
    private readonly byte[] _buffer = new byte[PushChunk];
    private readonly Queue<(ulong Page, int Thread)> _faults = [];
    private readonly List<PostcopyServer> _children = [];
    private readonly List<ulong> _firstFaults = [];
    private readonly TaskCompletionSource<PostcopyOutcome> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private volatile bool _stop;
    private bool _gone, _doomed;
    private ulong _cursor;
    private long _startTicks;

    internal PostcopyServer(UserFaultFd fd, PendingPages pending, IPageSource source, PidFd? process, bool push, ILogger logger)
    {
        _fd = fd;
        _pending = pending;
        _source = source;
        _process = process;
        _push = push;
        _logger = logger;
        _probe = pending.AnyPage;
        _thread = new Thread(Run) { IsBackground = true, Name = "postcopy" };
    }

    /// <summary>The outcome, once this process and every child forked during post-copy are served to the end.</summary>
    public Task<PostcopyOutcome> Completion => _done.Task;

    /// <summary>Faults that found their page pending (not zero pages, not faults already served).</summary>
    public long FaultsServed { get; private set; }
    public ulong BytesByFault { get; private set; }
    public ulong BytesPushed { get; private set; }
    /// <summary>Time from the start of serving to the last page in.</summary>
    public TimeSpan Duration { get; private set; }

    /// <summary>Why the page source failed, when it did.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>The first pages faults asked for, in the order they came (at most 4096).</summary>
    public IReadOnlyList<ulong> FirstFaults
    {
        get { lock (_firstFaults) return [.. _firstFaults]; }
    }

    /// <summary>Servers of the children forked during post-copy.</summary>
    public IReadOnlyList<PostcopyServer> Children
    {
        get { lock (_children) return [.. _children]; }
    }

    internal void Start()
    {
        _startTicks = Stopwatch.GetTimestamp();
        _thread.Start();
    }

    /// <summary>Stops serving. A process still missing pages is killed (a page it lacks cannot be made up).</summary>
    public void Dispose()
    {
        _stop = true;
        foreach (var child in Children) child._stop = true;
        if (_thread.IsAlive) _thread.Join();
        _process?.Dispose();
    }

    private void Run()
    {
        PostcopyOutcome outcome;
        try
        {
            outcome = Serve();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Failure = e;
            _logger.LogWarning("Post-copy: pages cannot be fetched ({Error}) with {MiB:F1} MiB still missing: the process is killed", e.Message, _pending.Bytes / 1048576.0);
            outcome = Doom();
        }
        Duration = Stopwatch.GetElapsedTime(_startTicks);
        _fd.Dispose();
        foreach (var child in Children) child.Completion.Wait();
        _done.SetResult(outcome);
    }

    private PostcopyOutcome Serve()
    {
        var messages = new UserFaultMessage[16];
        while (true)
        {
            if (_stop) return _pending.IsEmpty ? PostcopyOutcome.AllPagesIn : Doom();
            var read = _fd.Read(messages);
            for (var i = 0; i < read; i++) Handle(messages[i]);
            var faultsDone = ServeQueuedFaults();
            if (_gone) return PostcopyOutcome.ProcessGone;
            if (_pending.IsEmpty) return PostcopyOutcome.AllPagesIn;
            if (read > 0) continue;
            // While the address space changes (EAGAIN), the event that says how comes next: wait for it, not spin.
            // A push held back by a bandwidth limit waits as long, unless a fault comes first.
            if (!faultsDone) Readiness.WaitReadable(_fd.Handle, Idle);
            else if (_push && Push(out var held) is var pushed && (pushed == Errno.EAGAIN || held > TimeSpan.Zero))
                Readiness.WaitReadable(_fd.Handle, pushed == Errno.EAGAIN || held > Idle ? Idle : held);
            else if (!_push && !Readiness.WaitReadable(_fd.Handle, Idle) && !_fd.AddressSpaceAlive(_probe)) return PostcopyOutcome.ProcessGone;
        }
    }

    private void Handle(in UserFaultMessage message)
    {
        switch (message.Event)
        {
            case UserFaultMessage.PageFault:
                _faults.Enqueue((message.FaultAddress & ~(PageSize - 1), message.FaultThread));
                break;
            case UserFaultMessage.Fork:
                StartChild(new SafeFileHandle(message.ForkDescriptor, ownsHandle: true));
                break;
            case UserFaultMessage.Remap:
                var (from, to, length) = message.Moved;
                _pending.Move(from, to, length);
                break;
            case UserFaultMessage.Remove or UserFaultMessage.Unmap:
                var (start, end) = message.Dropped;
                _pending.Remove(start, end - start);
                break;
        }
    }

    private void StartChild(SafeFileHandle descriptor)
    {
        var child = new PostcopyServer(UserFaultFd.FromFork(descriptor), _pending.Clone(), _source, null, push: true, _logger);
        lock (_children) _children.Add(child);
        child.Start();
        if (_doomed) child._stop = true;
        _logger.LogInformation("Post-copy: a fork's child is served too ({MiB:F1} MiB still missing)", _pending.Bytes / 1048576.0);
    }

    /// <summary>False when the address space is changing (EAGAIN): its events must be read before going on.</summary>
    private bool ServeQueuedFaults()
    {
        while (_faults.TryPeek(out var fault))
        {
            if (ServeFault(fault.Page, fault.Thread) == Errno.EAGAIN) return false;
            _faults.Dequeue();
        }
        return true;
    }

    private Errno ServeFault(ulong page, int thread)
    {
        if (_doomed)
        {
            if (thread > 0) TryKill(thread);
            return 0;
        }
        var length = _pending.RunAt(page, FaultWindow);
        if (length == 0)
        {
            // Never in the image, or discarded since: what the process finds there is a zero page.
            var error = _fd.TryZeroPage(page, PageSize);
            if (error == Errno.EEXIST) _fd.Wake(page, PageSize);
            _gone |= error == Errno.ESRCH;
            return error == Errno.EAGAIN ? error : 0;
        }
        FaultsServed++;
        BytesByFault += length;
        lock (_firstFaults)
            if (_firstFaults.Count < 4096) _firstFaults.Add(page);
        return Deliver(page, length);
    }

    /// <summary>Brings the next pending run in; <paramref name="held"/>: how long a bandwidth limit holds it back.</summary>
    private Errno Push(out TimeSpan held)
    {
        held = TimeSpan.Zero;
        var (start, length) = _pending.NextFrom(_cursor, PushChunk);
        if (length == 0 || !_source.MayPush((long)length, out held)) return 0;
        var result = Deliver(start, length);
        if (result == Errno.EAGAIN) return result;
        BytesPushed += length;
        _cursor = start + length;
        return 0;
    }
}
