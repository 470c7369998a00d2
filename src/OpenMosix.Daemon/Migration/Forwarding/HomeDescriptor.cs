using Microsoft.Win32.SafeHandles;
using System.Threading.Channels;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// One forwarded descriptor at home: its calls are carried out one after the other, in the order they came, on a
/// thread of its own, so that a read waiting for data holds neither omd's other work nor the other descriptors.
/// The copy may know it under several numbers (it duplicated it): <see cref="Key"/> is the first, under which its
/// readiness is noticed, and it ends when the last is closed.
/// </summary>
internal sealed class HomeDescriptor : IDisposable
{
    /// <summary>The number the copy first knew it under.</summary>
    public int Key { get; }

    /// <summary>How many numbers of the copy name it (the forwarder's to count).</summary>
    public int Names { get; set; } = 1;

    /// <summary>The write (chain number) of which a piece came out short or failed: its later pieces are not written.</summary>
    public long BrokenChain { get; set; }

    /// <summary>Bytes peeked ahead for the copy (<see cref="ForwardOp.PeekAhead"/>) and not yet consumed: where the next
    /// peek begins. A plain read or receive starts again from the socket's head (the copy dropped what it held).</summary>
    public int Peeked { get; set; }

    /// <summary>Whether it is a stream socket, read ahead by peeking; null until asked.</summary>
    public bool? PeeksAhead { get; set; }

    /// <summary>A pipe read ahead by copying its head (tee); null for a socket or anything not read ahead.</summary>
    public PipeAhead? Pipe { get; set; }

    /// <summary>An internet socket, whose bytes a consume discards without copying (MSG_TRUNC).</summary>
    public bool Discards { get; set; }

    /// <summary>Set by the call that closed its last number: the thread ends after it.</summary>
    public bool Ended { get; set; }

    private readonly Channel<ForwardRequest> _calls = Channel.CreateUnbounded<ForwardRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SafeFileHandle _fd;
    private readonly Func<ForwardRequest, SafeFileHandle, ForwardReply> _run;
    private readonly Thread _thread;

    public HomeDescriptor(int number, SafeFileHandle fd, Func<ForwardRequest, SafeFileHandle, ForwardReply> run)
    {
        Key = number;
        _fd = fd;
        _run = run;
        _thread = new Thread(Serve) { IsBackground = true, Name = $"forwarded fd {number}" };
        _thread.Start();
    }

    /// <summary>What the descriptor is open on, as /proc shows it (a directory's path, for calls relative to it).</summary>
    public string? Target
    {
        get
        {
            try
            {
                return new FileInfo($"/proc/self/fd/{_fd.DangerousGetHandle()}").LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                return null; // closed meanwhile
            }
        }
    }

    public bool Post(ForwardRequest call) => _calls.Writer.TryWrite(call);

    private void Serve()
    {
        var reader = _calls.Reader;
        try
        {
            while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out var call))
                {
                    _run(call, _fd);
                    // Written (or refused): nothing holds the piece's bytes any more.
                    if (call.Payload is { } payload) FramePool.Return(payload);
                    if (Ended) return;
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // The relay ended while a call was under way: nobody waits for its result any more.
        }
    }

    /// <summary>No more calls: the thread ends after the one it is in (a waiting call gives up within its slice).</summary>
    public void Dispose()
    {
        _calls.Writer.TryComplete();
        _fd.Dispose();
        Pipe?.Dispose();
    }
}
