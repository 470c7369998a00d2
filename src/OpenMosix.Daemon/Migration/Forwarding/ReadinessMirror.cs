using OpenMosix.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// The placeholder that holds a forwarded number in the copy is one end of a unix socket pair whose other end omd
/// holds, and omd makes it show home's readiness: readable while a byte waits in it, not writable while its tiny send
/// buffer is full of bytes omd does not read, read hang-up once omd shuts its end for writing, hang-up once for both.
/// So the copy's own poll, ppoll, select, pselect and epoll (level- or edge-triggered, mixed with local descriptors,
/// with their timeouts and signals) work in its kernel, untouched: nothing of them is intercepted. The copy never
/// reads or writes the placeholder itself, its calls on that number go home.
/// </summary>
internal sealed class ReadinessMirror : IDisposable
{
    private const int SocketLevel = 1, SendBufferOption = 7, ShutWrite = 1, ShutBoth = 2, FillPiece = 1024, MaxPieces = 256;
    private const short Readable = ForwardedReadiness.In | ForwardedReadiness.Error;
    private const short Writable = ForwardedReadiness.Out | ForwardedReadiness.Error;
    private readonly SafeFileHandle _placeholder;
    private readonly SafeFileHandle _peer;
    private readonly Lock _lock = new();
    private bool _readable, _writable = true, _readHungUp, _hungUp;

    /// <param name="placeholder">omd's descriptor of the copy's placeholder end (the same socket).</param>
    /// <param name="peer">the other end, omd's alone.</param>
    public ReadinessMirror(SafeFileHandle placeholder, SafeFileHandle peer)
    {
        _placeholder = placeholder;
        _peer = peer;
        // The smallest send buffer: a few bytes written into it make the placeholder unwritable.
        ForwardedCalls.SetOption(_placeholder, SocketLevel, SendBufferOption, BitConverter.GetBytes(1));
        ForwardedCalls.Control(_placeholder, ForwardedCalls.FSetFl, (int)OpenFlags.ReadWrite | (int)OpenFlags.NonBlock);
        ForwardedCalls.Control(_peer, ForwardedCalls.FSetFl, (int)OpenFlags.ReadWrite | (int)OpenFlags.NonBlock);
    }

    /// <summary>A mirror of a descriptor made at home while away (an accepted connection): a new pair, and the end the
    /// copy gets (to install under its number).</summary>
    public static (ReadinessMirror Mirror, SafeFileHandle CopysEnd) Create()
    {
        var (copysEnd, peer) = ForwardedReadiness.CreateSocketPair();
        return (new ReadinessMirror(copysEnd, peer), copysEnd);
    }

    /// <summary>The end to install into the copy under a new number (a duplicate of a forwarded descriptor).</summary>
    public SafeFileHandle Placeholder => _placeholder;

    /// <summary>Shows <paramref name="ready"/> (poll bits of home's descriptor) on the placeholder.</summary>
    public void Show(short ready)
    {
        lock (_lock)
        {
            if (_hungUp) return;
            if ((ready & ForwardedReadiness.HangUp) != 0)
            {
                // End of file for good (a pipe with no writer left, a socket closed both ways): readable and
                // writable, as the kernel reports such a descriptor, and hung up.
                Drain(_peer);
                ForwardedCalls.Shutdown(_peer, ShutBoth);
                _hungUp = true;
                return;
            }
            if ((ready & ForwardedReadiness.ReadHangUp) != 0 && !_readHungUp)
            {
                ForwardedCalls.Shutdown(_peer, ShutWrite);
                _readHungUp = true;
            }
            SetReadable((ready & Readable) != 0);
            SetWritable((ready & Writable) != 0);
        }
    }

    private void SetReadable(bool readable)
    {
        if (readable == _readable) return;
        if (readable) ForwardedCalls.Send(_peer, [1], ForwardedCalls.MsgDontWait | ForwardedCalls.MsgNoSignal, []);
        else Drain(_placeholder);
        _readable = readable;
    }

    private void SetWritable(bool writable)
    {
        if (writable == _writable) return;
        if (writable)
        {
            Drain(_peer);
        }
        else
        {
            Span<byte> piece = stackalloc byte[FillPiece];
            for (var i = 0; i < MaxPieces; i++)
                if (ForwardedCalls.Send(_placeholder, piece, ForwardedCalls.MsgDontWait | ForwardedCalls.MsgNoSignal, []) <= 0) break;
        }
        _writable = writable;
    }

    private static void Drain(SafeFileHandle end)
    {
        Span<byte> buffer = stackalloc byte[4096];
        while (ForwardedCalls.Receive(end, buffer, ForwardedCalls.MsgDontWait, [], out _) > 0) { }
    }

    public void Dispose()
    {
        _placeholder.Dispose();
        _peer.Dispose();
    }
}
