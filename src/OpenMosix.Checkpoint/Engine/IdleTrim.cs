using OpenMosix.Checkpoint.Dump;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// Gives memory back once checkpoints and restores have stopped for a while. A move leaves behind the buffers it
/// filled (the dump's pinned chunk buffers, kept for the next dump; image frames and sections now garbage), and an
/// idle daemon runs no collection that would free them: after moving a 200 MiB process back and forth, omd stayed
/// at 180-260 MB RSS. A full, compacting collection a few seconds after the last move returns them; the next move
/// allocates afresh.
/// </summary>
internal sealed class IdleTrim(TimeSpan quiet) : IDisposable
{
    private readonly Timer _timer = new(_ => Trim(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    /// <summary>A checkpoint or restore just ended: trim once none has followed for the quiet time.</summary>
    public void AfterWork() => _timer.Change(quiet, Timeout.InfiniteTimeSpan);

    private static void Trim()
    {
        ChunkBuffers.Clear();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    public void Dispose() => _timer.Dispose();
}
