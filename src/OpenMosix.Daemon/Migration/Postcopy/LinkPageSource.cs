using System.Collections.Concurrent;
using OpenMosix.Checkpoint.Postcopy;

namespace OpenMosix.Daemon.Migration.Postcopy;

/// <summary>
/// The copy's node's page source in a post-copy: each fetch asks home for the pages over the link (a Pages request)
/// and waits for them. A fetch fails when the link ends, when home refuses, or when no answer comes within
/// <paramref name="patience"/> (then the link is declared dead: the copy cannot go on, and home must hear that it is
/// to run the original on). The caller (<see cref="PostcopyServer"/>) then kills the copy, which must never read a
/// page it lacks as zeros.
/// </summary>
public sealed class LinkPageSource(NodeLink link, TimeSpan patience) : IPageSource, IPageFrames
{
    private sealed class Waiting(int length)
    {
        public readonly int Length = length;
        public readonly ManualResetEventSlim Done = new();
        public PageWire.Answer Answer;
        public string? Failure;
    }

    private readonly ConcurrentDictionary<uint, Waiting> _waiting = new();
    private volatile string? _ended;
    private int _next;

    /// <summary>Bytes fetched, and how many of them came as zero pages (nothing on the wire).</summary>
    public long BytesFetched => Interlocked.Read(ref _fetched);
    public long ZeroBytes => Interlocked.Read(ref _zero);
    private long _fetched, _zero;

    /// <summary>Paces the background push (migration.bandwidth_limit_mib_s); null: no limit. Faults are never paced.</summary>
    public BandwidthPacer? Pacer { get; init; }

    bool IPageSource.MayPush(long bytes, out TimeSpan wait)
    {
        wait = TimeSpan.Zero;
        return Pacer is null || Pacer.TryReserve(bytes, out wait);
    }

    /// <summary>Starts taking the link's Pages frames.</summary>
    public LinkPageSource Attach()
    {
        link.DivertPages(this);
        return this;
    }

    public void Fetch(ulong address, Span<byte> destination)
    {
        if (FetchUnlessZero(address, destination)) destination.Clear();
    }

    public bool FetchUnlessZero(ulong address, Span<byte> destination)
    {
        if (_ended is { } ended) throw new IOException($"the pages cannot come from home: {ended}");
        var id = (uint)Interlocked.Increment(ref _next);
        var waiting = new Waiting(destination.Length);
        _waiting[id] = waiting;
        try
        {
            // Told of the end before it was registered: it would wait for nothing.
            if (_ended is { } endedMeanwhile) throw new IOException($"the pages cannot come from home: {endedMeanwhile}");
            try
            {
                link.SendAsync(FrameType.Pages, PageWire.EncodeRequest(id, address, destination.Length)).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is LinkException or ObjectDisposedException)
            {
                throw new IOException($"the pages cannot be asked for: {e.Message}", e);
            }
            if (!waiting.Done.Wait(patience))
            {
                var why = $"home did not send pages at 0x{address:x} within {patience.TotalSeconds:F0} s";
                link.Abandon(why);
                throw new IOException(why);
            }
            if (waiting.Failure is { } failure) throw new IOException($"the pages cannot come from home: {failure}");
            Interlocked.Add(ref _fetched, destination.Length);
            if (waiting.Answer.Zero)
            {
                Interlocked.Add(ref _zero, destination.Length);
                return true;
            }
            waiting.Answer.Data.Span.CopyTo(destination);
            return false;
        }
        finally
        {
            // Not disposed: an answer may still be on its way to it (it holds no kernel handle unless waited on long).
            _waiting.TryRemove(id, out _);
        }
    }

    void IPageFrames.Arrived(Frame frame)
    {
        var answer = PageWire.DecodeAnswer(frame.Payload, link.PeerNode);
        if (!_waiting.TryGetValue(answer.Id, out var waiting))
            throw new LinkException($"node {link.PeerNode} answered page request {answer.Id}, which nobody waits for");
        if (answer.Refused is null && !answer.Zero && answer.Data.Length != waiting.Length)
            throw new LinkException($"node {link.PeerNode} answered a request for {waiting.Length} bytes of pages with {answer.Data.Length}");
        if (answer.Refused is { } refused) waiting.Failure = $"home refused: {refused}";
        else waiting.Answer = answer;
        waiting.Done.Set();
    }

    void IPageFrames.LinkEnded(string reason)
    {
        _ended = reason;
        foreach (var waiting in _waiting.Values)
        {
            waiting.Failure ??= reason;
            waiting.Done.Set();
        }
    }
}
