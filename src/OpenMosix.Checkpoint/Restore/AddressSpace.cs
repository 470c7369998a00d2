namespace OpenMosix.Checkpoint.Restore;

/// <summary>Address ranges taken in the process being built, to find room for the trampoline and moves.</summary>
internal sealed class AddressSpace
{
    private readonly List<(ulong Start, ulong End)> _taken = [];

    public void Reserve(ulong start, ulong end) => _taken.Add((start, end));

    /// <summary>The lowest page-aligned address in [low, high) with <paramref name="size"/> free bytes, or 0.</summary>
    public ulong FindFree(ulong size, ulong low, ulong high)
    {
        var candidate = low;
        bool moved;
        do
        {
            moved = false;
            foreach (var (start, end) in _taken)
            {
                if (candidate < end && candidate + size > start)
                {
                    candidate = (end + 0xfff) & ~0xfffUL;
                    moved = true;
                }
            }
        } while (moved && candidate + size <= high);
        return candidate + size <= high ? candidate : 0;
    }
}
