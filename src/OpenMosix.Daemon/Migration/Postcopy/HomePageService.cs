using System.Threading.Channels;
using OpenMosix.Checkpoint.Postcopy;

namespace OpenMosix.Daemon.Migration.Postcopy;

/// <summary>
/// Home's end of a post-copy: answers the copy's node's page requests from <paramref name="pages"/> (the original,
/// kept frozen and whole: <see cref="FrozenProcessPages"/>), one at a time in the order they came, off the link's
/// reading thread. Pages that are all zeros go as a zero answer, without their bytes. Once <see cref="Stop"/> is
/// called (every page is held there, or the original is about to run again here) it refuses what still comes.
/// </summary>
public sealed class HomePageService : IPageFrames
{
    private readonly NodeLink _link;
    private readonly IPageSource _pages;
    private readonly ILogger _logger;
    private readonly Channel<PageWire.Request> _requests = Channel.CreateUnbounded<PageWire.Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _serving;
    private volatile string? _stopped;
    private long _bytes, _zeroBytes, _requestsServed;

    public HomePageService(NodeLink link, IPageSource pages, ILogger logger)
    {
        _link = link;
        _pages = pages;
        _logger = logger;
        _serving = Task.Run(ServeAsync, CancellationToken.None);
    }

    public long BytesServed => Interlocked.Read(ref _bytes);
    public long ZeroBytesServed => Interlocked.Read(ref _zeroBytes);
    public long Requests => Interlocked.Read(ref _requestsServed);

    /// <summary>Starts taking the link's Pages frames.</summary>
    public HomePageService Attach()
    {
        _link.DivertPages(this);
        return this;
    }

    /// <summary>No more pages from here (<paramref name="why"/> goes to whoever still asks); completes once the request
    /// being answered, if any, is answered: the original's memory is not read after that.</summary>
    public Task Stop(string why)
    {
        _stopped ??= why;
        _requests.Writer.TryComplete();
        return _serving;
    }

    void IPageFrames.Arrived(Frame frame)
    {
        var request = PageWire.DecodeRequest(frame.Payload, _link.PeerNode);
        if (!_requests.Writer.TryWrite(request))
            _ = SendQuietlyAsync(PageWire.Refusal(request.Id, _stopped ?? "post-copy is over"));
    }

    void IPageFrames.LinkEnded(string reason) => _requests.Writer.TryComplete();

    private async Task ServeAsync()
    {
        try
        {
            await ServeRequestsAsync().ConfigureAwait(false);
        }
        finally
        {
            (_pages as IDisposable)?.Dispose();
        }
    }

    private async Task ServeRequestsAsync()
    {
        await foreach (var request in _requests.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            byte[] answer;
            if (_stopped is { } stopped) answer = PageWire.Refusal(request.Id, stopped);
            else
            {
                answer = PageWire.NewAnswer(request.Id, request.Length);
                try
                {
                    var data = answer.AsSpan(PageWire.AnswerHeader);
                    _pages.Fetch(request.Address, data);
                    Interlocked.Add(ref _bytes, request.Length);
                    Interlocked.Increment(ref _requestsServed);
                    if (!data.ContainsAnyExcept((byte)0))
                    {
                        Interlocked.Add(ref _zeroBytes, request.Length);
                        answer = PageWire.ZeroAnswer(request.Id);
                    }
                }
                catch (Exception e) when (e is SyscallException or ProcessAccessException or IOException)
                {
                    _logger.LogWarning("Post-copy: pages at 0x{Address:x} cannot be read here: {Error}", request.Address, e.Message);
                    answer = PageWire.Refusal(request.Id, e.Message);
                }
            }
            if (!await SendQuietlyAsync(answer).ConfigureAwait(false)) return;
        }
    }

    private async Task<bool> SendQuietlyAsync(byte[] frame)
    {
        try
        {
            await _link.SendAsync(FrameType.Pages, frame).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is LinkException or ObjectDisposedException)
        {
            // The link is gone: the copy is killed there, and whoever owns this service hears it too.
            return false;
        }
    }
}
