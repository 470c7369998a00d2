using System.Collections.Concurrent;
using OpenMosix.Cluster.Transport;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Arrays of a frame's size for the bytes of reads on the copy's node: the replies of reads and peeks taken off the
/// link as they are read (<see cref="GuestForwarder.TakeInline"/>) and the joined head of what was read ahead, each
/// given back once its last byte is in the copy's memory. Each such reply used to get a new array of its own length
/// (lengths vary, so the link's pool seldom had one): perf of a moved 256 MiB TCP receive and pipe read (2026-12-07
/// night) found a fifth of the node's omd in page faults of those fresh arrays, the garbage collections their
/// allocations forced (the link's FrameGarbage, every 64 MiB) and background marking.
/// </summary>
internal static class ReadPieces
{
    /// <summary>Any reply fits: a frame's payload is at most this.</summary>
    public const int Size = NodeLink.MaxPayload;

    /// <summary>A window of read-ahead (4 pieces) on a few descriptors, a read's joined head and one being taken.</summary>
    private const int Kept = 12;

    private static readonly ConcurrentQueue<byte[]> Free = new();
    private static int _count;

    /// <summary>An array of <see cref="Size"/> bytes, not cleared.</summary>
    public static byte[] Rent()
    {
        if (Free.TryDequeue(out var kept))
        {
            Interlocked.Decrement(ref _count);
            return kept;
        }
        return GC.AllocateUninitializedArray<byte>(Size);
    }

    /// <summary>Gives back an array from <see cref="Rent"/> that nothing reads any more (once only).</summary>
    public static void Return(byte[]? piece)
    {
        if (piece is not { Length: Size }) return;
        if (Interlocked.Increment(ref _count) > Kept)
        {
            Interlocked.Decrement(ref _count);
            return;
        }
        Free.Enqueue(piece);
    }
}
