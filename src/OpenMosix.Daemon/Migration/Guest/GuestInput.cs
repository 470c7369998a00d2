using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// The copy's stdin on this node: omd writes there what home relays, and counts it. What the copy has read is what
/// was written less what still sits in its pipe; home keeps the rest until it knows, so that a trip home loses none of
/// it (<see cref="Protocol.InputTaken"/>). A terminal's queue cannot be told apart from what the program took: its
/// input counts as read once written.
/// </summary>
internal sealed class GuestInput(SafeFileHandle? handle, bool terminal) : IDisposable
{
    private FileStream? _stream = handle is null ? null : new FileStream(handle, FileAccess.Write, 0, isAsync: false);
    private readonly FileStatus? _pipe = handle is null || terminal ? null : FileStatus.Of($"/proc/self/fd/{handle.DangerousGetHandle()}");
    private long _written;

    /// <summary>Whether there is an input to write to (false once its end was passed on, or when it has none).</summary>
    public bool Open => _stream is not null;

    /// <summary>Bytes written into the copy's stdin since it came here.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Whether the end of input reached the copy.</summary>
    public bool Ended { get; private set; }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (_stream is null) return;
        try
        {
            _stream.Write(bytes);
        }
        catch (IOException)
        {
            // The guest closed its stdin: what home reads next has nowhere to go, as at home.
        }
        Interlocked.Add(ref _written, bytes.Length);
    }

    /// <summary>End of input: the copy reads end of file once it has read the rest.</summary>
    public void End()
    {
        _stream?.Dispose();
        _stream = null;
        Ended = true;
    }

    /// <summary>Bytes the copy has not read yet: in its pipe, found through our write end or, once that is closed,
    /// through the copy's own fd 0 if that is still the pipe (the copy is frozen then). Zero for a terminal.</summary>
    public long Unread(int copy)
    {
        if (_pipe is null) return 0;
        try
        {
            if (_stream is { } open) return PipePeek.Unread(open.SafeFileHandle);
            using var pidfd = PidFd.Open(copy);
            using var stdin = pidfd.GetFd(0);
            var now = FileStatus.Of($"/proc/self/fd/{stdin.DangerousGetHandle()}");
            return (now.Device, now.Inode) == (_pipe.Device, _pipe.Inode) ? PipePeek.Unread(stdin) : 0;
        }
        catch (Exception e) when (e is SyscallException or ProcessAccessException or IOException or ObjectDisposedException)
        {
            // The copy closed its stdin, or is gone: nothing it could still read.
            return 0;
        }
    }

    /// <summary>Bytes the copy has read so far (a lower bound while it runs).</summary>
    public long Read(int copy)
    {
        var written = Written;
        return Math.Max(0, written - Unread(copy));
    }

    public void Dispose() => End();
}
