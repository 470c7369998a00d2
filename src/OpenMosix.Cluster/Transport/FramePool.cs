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

    /// <summary>Shorter large payloads given back, each kept for the next frame of exactly its length: a relay's frame
    /// is what the copy's pump read from a pipe the copy had not filled, mostly a whole number of the writer's writes,
    /// so lengths recur; each new one was a large array, and every 64 MiB of them a forced collection (FrameGarbage).</summary>
    private static readonly byte[]?[] Shorter = new byte[]?[8];
    private const int ShorterFrom = 64 * 1024;

    /// <summary>An array for a payload of <paramref name="length"/> bytes, not cleared: the caller fills it.</summary>
    internal static byte[] Take(int length)
    {
        if (length == NodeLink.MaxPayload && Free.TryDequeue(out var kept))
        {
            Interlocked.Decrement(ref _count);
            return kept;
        }
        if (length is >= ShorterFrom and < NodeLink.MaxPayload)
        {
            for (var i = 0; i < Shorter.Length; i++)
                if (Volatile.Read(ref Shorter[i]) is { } slot && slot.Length == length && Interlocked.CompareExchange(ref Shorter[i], null, slot) == slot)
                    return slot;
        }
        var payload = GC.AllocateUninitializedArray<byte>(length);
        FrameGarbage.Allocated(payload.Length);
        return payload;
    }

    /// <summary>Gives back the payload of a frame its owner is done with: nothing may read or write it any more.</summary>
    public static void Return(byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Length is >= ShorterFrom and < NodeLink.MaxPayload)
        {
            KeepShorter(payload);
            return;
        }
        if (payload.Length != NodeLink.MaxPayload || Interlocked.Increment(ref _count) > Kept)
        {
            if (payload.Length == NodeLink.MaxPayload) Interlocked.Decrement(ref _count);
            return;
        }
        Free.Enqueue(payload);
    }

    /// <summary>Into an empty slot, else in place of the slot's array the next one would have taken (round robin).</summary>
    private static void KeepShorter(byte[] payload)
    {
        for (var i = 0; i < Shorter.Length; i++)
            if (Interlocked.CompareExchange(ref Shorter[i], payload, null) is null) return;
        Volatile.Write(ref Shorter[(int)((uint)Interlocked.Increment(ref _nextShorter) % Shorter.Length)], payload);
    }

    private static int _nextShorter;
}
