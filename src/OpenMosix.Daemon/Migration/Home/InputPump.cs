using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// Reads the deputy's stdin on a thread of its own and sends it on. It waits with poll and reads only what is there,
/// so it can stop between reads (before the process comes home) without O_NONBLOCK on a shared description. A
/// terminal is read only while the deputy's process group is the terminal's foreground group: a shell's background
/// job may not read the terminal (the kernel would stop it with SIGTTIN), and a relay reading for it would take the
/// keys typed at the shell's prompt. The copy's read waits until its job is brought to the foreground.
/// </summary>
internal static class InputPump
{
    private static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(100), BackgroundCheck = TimeSpan.FromMilliseconds(50);

    /// <summary>Pumps until cancelled or the end of input; what it sends of a pipe is kept in <paramref name="ledger"/>,
    /// of a terminal in <paramref name="typed"/>.</summary>
    public static Task Start(SafeFileHandle? stdin, int deputy, NodeLink link, InputLedger? ledger, CancellationToken cancel, TypedInput? typed = null) =>
        stdin is null ? Task.CompletedTask : Blocking.Run(() =>
        {
            Pump(stdin, deputy, link, ledger, typed, cancel);
            return 0;
        });

    /// <summary>Whether the deputy's controlling terminal has another process group in the foreground (read from
    /// /proc: tcgetpgrp would answer only a process of the terminal's own session).</summary>
    private static bool InBackground(int deputy)
    {
        try
        {
            var stat = ProcFs.ReadStat(deputy);
            return stat.TerminalForegroundGroup > 0 && stat.TerminalForegroundGroup != stat.ProcessGroup;
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }

    private static void Pump(SafeFileHandle stdin, int deputy, NodeLink link, InputLedger? ledger, TypedInput? typed, CancellationToken cancel)
    {
        var buffer = new byte[65536 + 1];
        var terminal = Terminal.ReadModes(stdin) is not null;
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                if (terminal && InBackground(deputy))
                {
                    cancel.WaitHandle.WaitOne(BackgroundCheck);
                    continue;
                }
                // No more than a window ahead of what the copy's node has written: a trip home waits behind no more.
                if (ledger is not null && !ledger.WaitForRoom(Wait)) continue;
                if (!Readiness.WaitReadable(stdin, Wait)) continue;
                if (cancel.IsCancellationRequested || (terminal && InBackground(deputy))) continue;
                var limit = buffer.Length - 1;
                if (terminal)
                {
                    // The shell reads this terminal too: input it took between the poll and here must not leave this
                    // read blocked until the next line typed at its prompt. Nothing queued but still readable is ^D.
                    limit = Math.Min(limit, Terminal.QueuedInput(stdin));
                    if (limit == 0 && !Readiness.WaitReadable(stdin, TimeSpan.Zero)) continue;
                }
                var n = Descriptors.Read(stdin, buffer.AsSpan(1, Math.Max(limit, 1)));
                // ^D on a terminal is an end of input for one read, not for good: the copy's terminal gets its EOF
                // character (with EXTPROC that is one empty read there too) and the terminal stays in use.
                if (n == 0 && !Readiness.IsHungUp(stdin) && Terminal.ReadModes(stdin) is { } modes)
                {
                    buffer[0] = 0;
                    buffer[1] = Terminal.EndOfFile(modes);
                    link.SendAsync(FrameType.Stdio, buffer.AsMemory(0, 2), cancel).GetAwaiter().GetResult();
                    typed?.Record(buffer.AsSpan(1, 1));
                    continue;
                }
                if (n == 0)
                {
                    ledger?.RecordEnd();
                    link.SendAsync(FrameType.StdioEnd, new byte[] { 0 }, cancel).GetAwaiter().GetResult();
                    break;
                }
                buffer[0] = 0;
                ledger?.Record(buffer.AsSpan(1, n));
                link.SendAsync(FrameType.Stdio, buffer.AsMemory(0, n + 1), cancel).GetAwaiter().GetResult();
                typed?.Record(buffer.AsSpan(1, n));
            }
        }
        catch (Exception e) when (e is LinkException or IOException or OperationCanceledException or ObjectDisposedException or SyscallException)
        {
            // The relay ended; input that nobody will read is left where it is.
        }
    }
}
