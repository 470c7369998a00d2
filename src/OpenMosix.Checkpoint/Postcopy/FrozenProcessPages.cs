namespace OpenMosix.Checkpoint.Postcopy;

/// <summary>
/// Pages served from the process itself, kept frozen where it was checkpointed (home's deputy-to-be): its memory is
/// the image's until it runs again, which it may do, intact, if its copy cannot be given every page.
/// </summary>
public sealed class FrozenProcessPages(int pid) : IPageSource
{
    public void Fetch(ulong address, Span<byte> destination) => ProcessMemory.Read(pid, address, destination);
}
