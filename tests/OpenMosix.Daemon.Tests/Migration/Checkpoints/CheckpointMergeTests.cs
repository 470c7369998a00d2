using OpenMosix.Daemon.Migration.Checkpoints;
using static OpenMosix.Daemon.Tests.Migration.Checkpoints.CheckpointImages;

namespace OpenMosix.Daemon.Tests.Migration.Checkpoints;

public sealed class CheckpointMergeTests
{
    private const ulong P = 4096;

    [Fact]
    public void A_merged_round_holds_the_final_images_pages_where_it_has_them_and_the_old_rounds_elsewhere()
    {
        var round = Round((Heap, 1), (Heap + P, 1), (Heap + 2 * P, 1), (Stack, 1));
        // Written since: one page changed, one new, one discarded (zeros replace it); the stack unchanged.
        var final = Final([HeapRange, StackRange], (Heap + P, 2), (Heap + 2 * P, 0), (Heap + 5 * P, 3));

        var (tracked, pages) = Merged(round, final);

        Assert.Equal([HeapRange, StackRange], tracked);
        Assert.Equal([(Heap, 1), (Heap + P, 2), (Heap + 2 * P, 0), (Heap + 5 * P, 3), (Stack, 1)], pages);
    }

    [Fact]
    public void A_region_the_final_image_no_longer_kept_leaves_the_merged_round()
    {
        var round = Round((Heap, 1), (Stack, 1), (Stack + P, 1));
        var final = Final([HeapRange], (Heap, 4), (Stack, 9));

        var (tracked, pages) = Merged(round, final);

        Assert.Equal([HeapRange], tracked);
        Assert.Equal([(Heap, 4)], pages);
    }

    [Fact]
    public void A_final_image_that_kept_a_region_the_round_never_held_is_refused()
    {
        var round = Round((Heap, 1));
        var final = Final([new(Heap, Heap + P)], (Heap, 2));

        var error = Assert.Throws<CorruptCheckpointException>(() => Merged(round, final));
        Assert.Contains("never held", error.Message, StringComparison.Ordinal);
    }

    private static (List<Checkpoint.Image.AddressRange>, List<(ulong, byte)>) Merged(byte[] round, byte[] final)
    {
        using var output = new MemoryStream();
        CheckpointMerge.Merge(new MemoryStream(round), new MemoryStream(final), output);
        output.Position = 0;
        return ReadRound(output);
    }
}
