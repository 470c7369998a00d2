using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Daemon.Migration.Checkpoints;

/// <summary>
/// The output of a process restarted from a checkpoint: it writes again what it wrote after the checkpoint, and home
/// delivered part of that already. It writes into a new pipe; this drops the first <c>skip</c> bytes (delivered once
/// already) and passes the rest to its old output, until it closes the pipe. On a thread of its own (both ends block).
/// </summary>
internal static class OutputSkip
{
    public static Task Start(SafeFileHandle pipe, SafeFileHandle output, long skip, ILogger logger, int pid) => Blocking.Run(() =>
    {
        using (pipe)
        using (output)
        {
            var buffer = new byte[65536];
            int n;
            try
            {
                while ((n = Descriptors.Read(pipe, buffer)) > 0)
                {
                    var dropped = (int)Math.Min(skip, n);
                    skip -= dropped;
                    if (n > dropped) Descriptors.WriteAll(output, buffer.AsSpan(dropped, n - dropped));
                }
            }
            catch (SyscallException e)
            {
                // The reader at home went away (EPIPE): the process would have had the same at home.
                CheckpointLog.OutputEnded(logger, pid, e.Message);
            }
        }
        return 0;
    });
}
