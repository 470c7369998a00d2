namespace OpenMosix.Checkpoint.Postcopy;

/// <summary>
/// Where a post-copied process's missing pages come from: the memory it had when it was frozen (at home, the frozen
/// deputy; in a test, an image). Called from the serving thread, one request at a time per process.
/// </summary>
public interface IPageSource
{
    /// <summary>Fills <paramref name="destination"/> with the pages at <paramref name="address"/> (whole pages, all
    /// in the image). Throws when they cannot be had (the link to home is gone): the process cannot go on.</summary>
    void Fetch(ulong address, Span<byte> destination);

    /// <summary>As <see cref="Fetch"/>, but true when every byte of those pages is zero, <paramref name="destination"/>
    /// then left as it was: the pages are mapped as zero pages instead of being allocated and filled (memory the
    /// process reserved and never touched stays unallocated on its new node, as it was at home).</summary>
    bool FetchUnlessZero(ulong address, Span<byte> destination)
    {
        Fetch(address, destination);
        return false;
    }

    /// <summary>Whether the background push may fetch <paramref name="bytes"/> more now (they are then counted);
    /// false with how long to wait when a bandwidth limit holds it back. Faults never ask: a faulting thread waits for
    /// its page, whatever the limit.</summary>
    bool MayPush(long bytes, out TimeSpan wait)
    {
        wait = TimeSpan.Zero;
        return true;
    }
}
