using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Checkpoint.Engine;

public sealed partial class CheckpointEngine
{
    /// <summary>
    /// Rebuilds a process tree from its tree section and its processes' images (<paramref name="open"/> gives the
    /// image of each running process by its PID), every child a child of its restored parent, and lets the whole tree
    /// run at once. The root comes first in the result. On failure nothing of the tree is left.
    /// </summary>
    public IReadOnlyList<RestoredProcess> RestoreTree(TreeImage tree, Func<int, IImageSource> open, RestoreOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(options);
        return Long(() =>
        {
            var restored = _restorer.RestoreTree(tree, open, options);
            try
            {
                // Threads last made (those kept for the let-go), all before any process runs.
                foreach (var process in restored) Finish(process.Pid);
            }
            catch
            {
                foreach (var process in Enumerable.Reverse(restored)) KillRestored(process.Pid);
                throw;
            }
            foreach (var process in restored)
            {
                ThreadGroup.DetachOthers(process.Pid);
                KilledTracee.Detach(process.Pid, _logger);
            }
            return restored;
        });
    }

    private void KillRestored(int pid)
    {
        _restorer.TakeDeferred(pid);
        var threads = ThreadGroup.OtherThreads(pid);
        try
        {
            Signals.Kill(pid, Signals.SIGKILL);
        }
        catch (SyscallException)
        {
            return; // already gone
        }
        ThreadGroup.CollectKilledThreads(threads);
        try
        {
            while (Waiting.WaitPid(pid, Waiting.WALL).Stopped)
            {
                // stops queued before the kill come out first
            }
        }
        catch (SyscallException)
        {
            // collected already
        }
    }
}
