using System.Buffers;

namespace OpenMosix.Linux;

/// <summary>
/// A span handed out as <see cref="ReadOnlyMemory{T}"/> for as long as a callback runs, pinned meanwhile: for an API
/// that takes memory (a node link's send) fed from a span (a stream's write) without copying it into an array of its
/// own first. The callback must be done with the memory when it returns (it waits for the send).
/// </summary>
public sealed unsafe class PinnedSpan : MemoryManager<byte>
{
    private byte* _start;
    private int _length;

    /// <summary>Runs <paramref name="use"/> with <paramref name="data"/> as memory; one use at a time.</summary>
    public void Use(ReadOnlySpan<byte> data, Action<ReadOnlyMemory<byte>> use)
    {
        ArgumentNullException.ThrowIfNull(use);
        fixed (byte* start = data)
        {
            _start = start;
            _length = data.Length;
            try
            {
                use(Memory);
            }
            finally
            {
                _start = null;
                _length = 0;
            }
        }
    }

    public override Span<byte> GetSpan() => new(_start, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_start + elementIndex);

    public override void Unpin()
    {
        // Pinned by Use for as long as the memory may be used.
    }

    protected override void Dispose(bool disposing)
    {
        // Owns nothing.
    }
}
