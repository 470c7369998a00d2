using Microsoft.Win32.SafeHandles;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>Each reads one output of the guest on a thread of its own (a pipe read blocks) and sends it home.</summary>
internal static class OutputPumps
{
    /// <summary>A pipe's pump counts what it takes in <paramref name="counted"/> (for checkpoints), if given, and keeps
    /// what it sent in <paramref name="sent"/> (for a takeover of home), if given: then it ends without a word to home
    /// when cancelled or when the link breaks, and whatever it read stays there to be sent again.</summary>
    public static Task Start(int fd, SafeFileHandle output, bool terminal, Conversation talk, CancellationToken cancel, PumpedBytes? counted = null,
        SentOutput? sent = null) => Blocking.Run(() =>
    {
        if (terminal) PumpTerminal(fd, output, talk, counted ?? new PumpedBytes(), cancel);
        else if (sent is not null)
        {
            if (sent.EndSent) return 0;
            try
            {
                if (!sent.Ended && !PumpPipe(fd, output, counted ?? new PumpedBytes(), sent, talk.Link, cancel)) return 0;
                talk.Link.SendAsync(FrameType.StdioEnd, new[] { (byte)fd }, cancel).GetAwaiter().GetResult();
                sent.EndSent = true;
            }
            catch (Exception e) when (e is LinkException or OperationCanceledException or ObjectDisposedException)
            {
                // Home is gone: what was read is kept in sent, for the omd that takes over home.
            }
            return 0;
        }
        else PumpPipe(fd, output, counted ?? new PumpedBytes(), null, talk.Link, cancel);
        talk.Link.SendAsync(FrameType.StdioEnd, new[] { (byte)fd }, cancel).GetAwaiter().GetResult();
        return 0;
    });

    /// <summary>Pumps until the end of the pipe (true), or until cancelled when what it sent is kept (false).</summary>
    private static bool PumpPipe(int fd, SafeFileHandle pipe, PumpedBytes counted, SentOutput? sent, NodeLink link, CancellationToken cancel)
    {
        // As much as a frame holds (the pipe is that large, RelayPipes): one read, one frame, however fast the copy writes.
        // What is kept for a takeover is read into where it is kept, and the frame sent from there.
        var buffer = sent is null ? new byte[NodeLink.MaxPayload] : null;
        while (true)
        {
            if (sent is not null && cancel.IsCancellationRequested) return false;
            // The frame: the descriptor's number, then what the read brings.
            var frame = buffer is not null ? buffer.AsMemory() : sent!.Room(NodeLink.MaxPayload - 1);
            int? n;
            try
            {
                n = counted.Read(pipe, frame.Span[1..]);
            }
            catch (SyscallException)
            {
                n = 0;
            }
            if (n is null) continue;
            if (n == 0)
            {
                sent?.RecordEnd();
                return true;
            }
            sent?.Took(n.Value);
            // The byte before the read belongs to the ring (the last one kept): it carries the number while the frame
            // is sealed and sent, and is put back after.
            var borrowed = frame.Span[0];
            frame.Span[0] = (byte)fd;
            try
            {
                link.SendAsync(FrameType.Stdio, frame[..(n.Value + 1)], cancel).GetAwaiter().GetResult();
            }
            finally
            {
                frame.Span[0] = borrowed;
            }
            counted.Sent(n.Value);
        }
    }

    /// <summary>
    /// Reads the pseudo-terminal's master, in packet mode: data goes home as output; a report that the program
    /// changed its terminal's modes sends the new modes home, where they are applied to the real terminal (echo,
    /// line editing and ^C happen there). EXTPROC, which a program building its modes from scratch may clear, is set
    /// again, so the slave never starts echoing or editing itself. What it takes and sends is counted in
    /// <paramref name="counted"/>, so that a copy's exit status may wait for its last output (<see cref="PumpedBytes.SentAllWrittenToTerminalAsync"/>).
    /// </summary>
    private static void PumpTerminal(int fd, SafeFileHandle master, Conversation talk, PumpedBytes counted, CancellationToken cancel)
    {
        var buffer = new byte[65536 + 1];
        byte[]? sent = null;
        while (true)
        {
            // 0: EIO once the last slave is closed (the guest is gone) and all was read.
            if (counted.ReadPacket(master, buffer) is not { } n) continue;
            if (n == 0) return;
            if (buffer[0] == 0)
            {
                if (n == 1) continue;
                buffer[0] = (byte)fd;
                talk.Link.SendAsync(FrameType.Stdio, buffer.AsMemory(0, n), cancel).GetAwaiter().GetResult();
                counted.Sent(n - 1);
                continue;
            }
            if ((buffer[0] & Terminal.PacketModesChanged) == 0 || Terminal.ReadModes(master) is not { } modes) continue;
            if (!Terminal.HasExternalProcessing(modes)) Terminal.WriteModes(master, Terminal.WithExternalProcessing(modes, on: true));
            var meant = Terminal.WithExternalProcessing(modes, on: false);
            if (sent is not null && sent.AsSpan().SequenceEqual(meant)) continue;
            try
            {
                talk.SendAsync(new TerminalModesChanged(meant), cancel).GetAwaiter().GetResult();
                sent = meant;
            }
            catch (LinkException) when (talk.Phase is MigrationPhase.Returning or MigrationPhase.ReturnPrecopying or MigrationPhase.Outliving)
            {
                // Its image (or a pre-copy round) is on the way home: the conversation
                // holds the message back, as it would land in the middle of the image. If it stays, the next change
                // carries the modes again. Or the copy ended and what it forked changed them: home's terminal keeps
                // the modes the copy left (no message of the copy travels once it ended).
            }
        }
    }
}
