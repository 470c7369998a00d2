using OpenMosix.Checkpoint.Postcopy;
using OpenMosix.TestSupport;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>Serves a post-copied process's pages from a local image, as home serves them from the frozen process.</summary>
internal sealed class ImagePageSource(InMemoryImage image) : IPageSource
{
    public void Fetch(ulong address, Span<byte> destination)
    {
        var runs = image.Runs;
        var done = 0;
        while (done < destination.Length)
        {
            var at = address + (ulong)done;
            var i = FirstEndingAfter(runs, at);
            if (i == runs.Count || runs[i].Address > at) throw new InvalidOperationException($"page 0x{at:x} is not in the image");
            var offset = (int)(at - runs[i].Address);
            var take = Math.Min(runs[i].Data.Length - offset, destination.Length - done);
            runs[i].Data.AsSpan(offset, take).CopyTo(destination[done..]);
            done += take;
        }
    }

    private static int FirstEndingAfter(IReadOnlyList<(ulong Address, byte[] Data)> runs, ulong address)
    {
        int low = 0, high = runs.Count;
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (runs[mid].Address + (ulong)runs[mid].Data.Length <= address) low = mid + 1;
            else high = mid;
        }
        return low;
    }
}

/// <summary>A page source behind a link that dies after <paramref name="failAfter"/> fetches.</summary>
internal sealed class DyingLink(IPageSource inner, int failAfter) : IPageSource
{
    private int _fetches;

    public void Fetch(ulong address, Span<byte> destination)
    {
        if (Interlocked.Increment(ref _fetches) > failAfter) throw new IOException("the link to home is gone (test)");
        inner.Fetch(address, destination);
    }
}
