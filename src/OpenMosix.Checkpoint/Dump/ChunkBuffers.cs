using System.Collections.Concurrent;

namespace OpenMosix.Checkpoint.Dump;

/// <summary>
/// Eight 4 MiB pinned chunk buffers with their run tables, pooled so that a dump does not pay for faulting in 32 MiB
/// of fresh memory each time (engines in one process may dump at the same time: each rents its own set). Eight, so
/// that gathering runs ahead of a sink that is late to be scheduled instead of waiting for it chunk by chunk.
/// </summary>
internal sealed class ChunkBuffers
{
    public const int Slots = 8;
    public const int ChunkBytes = 4096 * 1024;
    private static readonly ConcurrentBag<ChunkBuffers> Pool = [];

    private ChunkBuffers()
    {
        Data = new Memory<byte>[Slots];
        Runs = new (ulong, int, int)[Slots][];
        for (var i = 0; i < Slots; i++)
        {
            Data[i] = PageAligned(GC.AllocateUninitializedArray<byte>(ChunkBytes + 4096, pinned: true));
            Runs[i] = new (ulong, int, int)[ChunkBytes / 4096];
        }
    }

    /// <summary>Each slot starts on a page boundary, as the pages copied into it do: the kernel's copy then writes
    /// whole aligned pages, not each page across two (a pinned array's data starts 16 bytes past a boundary).</summary>
    public Memory<byte>[] Data { get; }
    public (ulong Address, int Offset, int Length)[][] Runs { get; }

    private static unsafe Memory<byte> PageAligned(byte[] pinned)
    {
        fixed (byte* start = pinned)
        {
            var skip = (int)((4096 - ((nuint)start & 4095)) & 4095);
            return pinned.AsMemory(skip, ChunkBytes);
        }
    }

    public static ChunkBuffers Rent() => Pool.TryTake(out var buffers) ? buffers : new ChunkBuffers();

    /// <summary>Drops the sets kept for reuse (the engine's idle trim); sets rented now come back as usual.</summary>
    public static void Clear() => Pool.Clear();

    /// <summary>How many sets are kept for reuse now.</summary>
    public static int Kept => Pool.Count;

    /// <summary>Keeps at most two sets (64 MiB) for reuse; more concurrent dumps than that allocate their own.</summary>
    public static void Return(ChunkBuffers buffers)
    {
        if (Pool.Count < 2) Pool.Add(buffers);
    }
}
