namespace OpenMosix.Cluster.Transport;

/// <summary>
/// Keeps the garbage of received frames from piling up. Each frame of an image is a new array of up to 1 MiB, garbage
/// once its pages are placed; the runtime collects such large arrays only in a full collection, which a daemon that
/// allocates little else seldom runs. A 400 MiB move left the receiving omd at 190–300 MB RSS, and in a lab node of
/// 1 GiB that is what the OOM killer found when a second process was ushered there (UsheringLabTests). A background
/// collection after every <see cref="Budget"/> of large frames lets the next frames reuse the memory instead.
/// </summary>
internal static class FrameGarbage
{
    /// <summary>Frames from this size on go to the large object heap.</summary>
    private const int Large = 85_000;

    private const long Budget = 64L << 20;

    private static long _sinceCollection;

    /// <summary>A frame of <paramref name="bytes"/> was just allocated.</summary>
    public static void Allocated(int bytes)
    {
        if (bytes < Large) return;
        if (Interlocked.Add(ref _sinceCollection, bytes) < Budget) return;
        Interlocked.Exchange(ref _sinceCollection, 0);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false);
    }
}
