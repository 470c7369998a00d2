using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// The stdin of a process that came home with input its copy had not read: it got a new pipe (the old one cannot take
/// bytes in front of what it holds), and this writes into it the input put back, then everything its old stdin gives
/// until end of file, which it passes on by closing the pipe. On a thread of its own (both ends block).
/// </summary>
internal static class InputFeed
{
    public static Task Start(byte[] putBack, SafeFileHandle? oldStdin, SafeFileHandle pipe, ILogger logger, int pid) => Blocking.Run(() =>
    {
        using (pipe)
        using (oldStdin)
        {
            try
            {
                Descriptors.WriteAll(pipe, putBack);
                if (oldStdin is null) return 0;
                var buffer = new byte[65536];
                int n;
                while ((n = Descriptors.Read(oldStdin, buffer)) > 0) Descriptors.WriteAll(pipe, buffer.AsSpan(0, n));
            }
            catch (SyscallException e)
            {
                // The process closed its stdin (EPIPE) or the old one failed: as at home, the rest has nowhere to go.
                HomeLog.InputFeedEnded(logger, pid, e.Message);
            }
        }
        return 0;
    });
}
