using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// Reads the deputy's stdin on a thread of its own and sends it on. It waits with poll and reads only what is there,
/// so it can stop between reads (before the process comes home) without O_NONBLOCK on a shared description.
/// </summary>
internal static class InputPump
{
    public static Task Start(SafeFileHandle? stdin, NodeLink link, CancellationToken cancel) =>
        stdin is null ? Task.CompletedTask : Blocking.Run(() =>
        {
            Pump(stdin, link, cancel);
            return 0;
        });

    private static void Pump(SafeFileHandle stdin, NodeLink link, CancellationToken cancel)
    {
        var buffer = new byte[65536 + 1];
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                if (!Readiness.WaitReadable(stdin, TimeSpan.FromMilliseconds(100))) continue;
                if (cancel.IsCancellationRequested) break;
                var n = Descriptors.Read(stdin, buffer.AsSpan(1));
                // ^D on a terminal is an end of input for one read, not for good: the copy's terminal gets its EOF
                // character (with EXTPROC that is one empty read there too) and the terminal stays in use.
                if (n == 0 && !Readiness.IsHungUp(stdin) && Terminal.ReadModes(stdin) is { } modes)
                {
                    buffer[0] = 0;
                    buffer[1] = Terminal.EndOfFile(modes);
                    link.SendAsync(FrameType.Stdio, buffer.AsMemory(0, 2), cancel).GetAwaiter().GetResult();
                    continue;
                }
                if (n == 0)
                {
                    link.SendAsync(FrameType.StdioEnd, new byte[] { 0 }, cancel).GetAwaiter().GetResult();
                    break;
                }
                buffer[0] = 0;
                link.SendAsync(FrameType.Stdio, buffer.AsMemory(0, n + 1), cancel).GetAwaiter().GetResult();
            }
        }
        catch (Exception e) when (e is LinkException or IOException or OperationCanceledException or ObjectDisposedException or SyscallException)
        {
            // The relay ended; input that nobody will read is left where it is.
        }
    }
}
