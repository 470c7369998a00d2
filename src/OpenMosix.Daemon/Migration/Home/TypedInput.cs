using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// What home's terminal gave a moved job, counted, with the last <see cref="Kept"/> bytes kept. When the job ends,
/// its node says how many bytes it took from the link in all; what was sent past that was still on the way and is
/// put back into the terminal with what the job left unread there (<see cref="Protocol.Exited.UnreadInput"/>).
/// </summary>
internal sealed class TypedInput
{
    /// <summary>Far more than keys typed while a job ends (a paste larger than this, unread, loses its head).</summary>
    public const int Kept = 256 << 10;

    private readonly object _gate = new();
    private readonly KeptBytes _tail = new();

    /// <summary>Bytes sent since the relay began.</summary>
    public long Sent
    {
        get
        {
            lock (_gate) return _tail.End;
        }
    }

    public void Record(ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            _tail.Add(bytes);
            _tail.ForgetBefore(_tail.End - Kept);
        }
    }

    /// <summary>What was sent after the first <paramref name="received"/> bytes, as far as kept; nothing when the
    /// count is not this relay's (a node that counts more than was sent: a relay taken over).</summary>
    public byte[] After(long received)
    {
        lock (_gate)
        {
            if (received < 0 || received >= _tail.End) return [];
            return _tail.From(Math.Max(received, _tail.Start));
        }
    }

    /// <summary>
    /// Puts what the moved job left unread back into home's <paramref name="terminal"/>, where the shell reads it next
    /// (<see cref="TerminalInput.PutBack"/>): <paramref name="unread"/> first, then what was on its way.
    /// </summary>
    public static void PutBack(SafeFileHandle terminal, TypedInput? typed, Protocol.Exited exited, int pid, ILogger logger)
    {
        byte[] bytes = [.. exited.UnreadInput ?? [], .. typed?.After(exited.InputReceived) ?? []];
        if (bytes.Length == 0) return;
        try
        {
            var done = TerminalInput.PutBack(terminal, bytes);
            HomeLog.InputPutBack(logger, pid, done, bytes.Length);
        }
        catch (SyscallException e)
        {
            HomeLog.InputNotPutBack(logger, pid, bytes.Length, e.Message);
        }
    }
}
