using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Postcopy;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// Post-copy as omd moves a process: the final image leaves private anonymous memory out (DumpOptions.LeaveLazyMemory),
/// the copy is restored with every page of it missing (RestoreOptions.LazyWholeRegions) and served from the frozen
/// original, runs that are all zeros mapped as zero pages.
/// </summary>
public sealed class PostcopyLeftOutTests
{
    /// <summary>Counts what it serves and says which runs were all zeros, as home's page service does.</summary>
    private sealed class Counting(IPageSource inner) : IPageSource
    {
        public long Bytes, ZeroBytes;

        public void Fetch(ulong address, Span<byte> destination) => inner.Fetch(address, destination);

        public bool FetchUnlessZero(ulong address, Span<byte> destination)
        {
            inner.Fetch(address, destination);
            Interlocked.Add(ref Bytes, destination.Length);
            if (destination.ContainsAnyExcept((byte)0)) return false;
            Interlocked.Add(ref ZeroBytes, destination.Length);
            return true;
        }
    }

    [Fact]
    public async Task An_image_without_its_private_memory_is_small_and_the_copy_served_from_the_frozen_original_finds_every_page()
    {
        using var original = FrozenOriginal.Start();
        var whole = original.Checkpoint();
        original.Thaw();
        var image = original.Checkpoint(leaveLazyMemory: true);
        // The program's 16 MiB (and its heap and stack) stay behind: what travels is what files and the kernel hold.
        Assert.True(image.PageBytes + (12UL << 20) < whole.PageBytes, $"{image.PageBytes >> 20} MiB of {whole.PageBytes >> 20} MiB in the image");

        var source = new Counting(new FrozenProcessPages(original.Process.Pid));
        var copy = original.RestoreCopy(image, source, push: true, wholeRegions: true);
        using var server = copy.Postcopy ?? throw new InvalidOperationException("nothing was left missing");

        original.Send("sum");
        original.UntilLines(2);
        Assert.Equal(PostcopyOutcome.AllPagesIn, await server.Completion.WaitAsync(Patience, TestContext.Current.CancellationToken));
        // Every page of those regions was asked for (runs of untouched memory among them come as zero pages).
        Assert.True(source.Bytes >= 16L << 20, $"{source.Bytes >> 20} MiB served");
        original.Send("quit");
        Assert.Equal(new ExitStatus(0, 0), original.Engine.WaitForExitWithin(copy, Patience));
        Assert.Equal($"sum {original.Ready} {original.Ready}", original.SumLine);
        // The original, frozen all along, is let go and ends too.
        original.Thaw();
        original.Quit();
    }
}
