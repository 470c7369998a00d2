using System.Collections.Concurrent;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// The payload arrays of full frames (<see cref="NodeLink.MaxPayload"/> bytes: an image travels in them), kept for
/// the next frames. Each frame received into a new array had the runtime hand it memory it had given back to the
/// kernel, which the kernel then faulted in and cleared page by page: a quarter of the receiving omd's CPU in a move of
/// 512 MiB (perf, 2026-12-07). Only the consumer that owns a payload and is done with it gives it back (an image's
/// reader); any other frame becomes garbage as before (<see cref="FrameGarbage"/>).
/// </summary>
public static class FramePool
{
    /// <summary>Enough for a link's queue, the frame being read and the one being consumed, on a few links at once.</summary>
    private const int Kept = 8;

    private static readonly ConcurrentQueue<byte[]> Free = new();
    private static int _count;

    /// <summary>An array for a payload of <paramref name="length"/> bytes, not cleared: the caller fills it.</summary>
    internal static byte[] Take(int length)
    {
        if (length == NodeLink.MaxPayload && Free.TryDequeue(out var kept))
        {
            Interlocked.Decrement(ref _count);
            return kept;
        }
        var payload = GC.AllocateUninitializedArray<byte>(length);
        FrameGarbage.Allocated(payload.Length);
        return payload;
    }

    /// <summary>Gives back the payload of a frame its owner is done with: nothing may read or write it any more.</summary>
    public static void Return(byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Length != NodeLink.MaxPayload || Interlocked.Increment(ref _count) > Kept)
        {
            if (payload.Length == NodeLink.MaxPayload) Interlocked.Decrement(ref _count);
            return;
        }
        Free.Enqueue(payload);
    }
}
