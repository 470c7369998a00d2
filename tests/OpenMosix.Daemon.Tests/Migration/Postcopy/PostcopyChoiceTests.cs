using OpenMosix.Daemon.Migration.Postcopy;

namespace OpenMosix.Daemon.Tests.Migration.Postcopy;

public sealed class PostcopyChoiceTests
{
    private const double Link = 100e6;
    private static readonly TimeSpan Probe = TimeSpan.FromMilliseconds(100);

    [Fact]
    public void A_process_writing_faster_than_half_the_link_is_post_copied()
    {
        // 512 MiB resident, 64 MiB written in 100 ms: 670 MB/s against a 100 MB/s link.
        Assert.True(PostcopyChoice.Prefer(512L << 20, 64L << 20, Probe, Link));
    }

    [Fact]
    public void A_process_writing_slower_than_half_the_link_is_pre_copied()
    {
        // 4 MiB in 100 ms: 42 MB/s, each round shrinks what is left.
        Assert.False(PostcopyChoice.Prefer(512L << 20, 4L << 20, Probe, Link));
    }

    [Fact]
    public void A_small_process_is_pre_copied_even_when_it_writes_fast_since_its_freeze_is_short_anyway()
    {
        // 2 MiB resident, all rewritten: a round's writes fit under SmallEnough.
        Assert.False(PostcopyChoice.Prefer(2L << 20, 2L << 20, Probe, Link));
    }

    [Fact]
    public void Nothing_measured_means_pre_copy()
    {
        Assert.False(PostcopyChoice.Prefer(512L << 20, 64L << 20, TimeSpan.Zero, Link));
        Assert.False(PostcopyChoice.Prefer(0, 0, Probe, Link));
    }

    [Theory]
    [InlineData("auto", PostcopyMode.Auto)]
    [InlineData("never", PostcopyMode.Never)]
    [InlineData("always", PostcopyMode.Always)]
    public void The_three_settings_parse(string text, PostcopyMode mode) => Assert.Equal(mode, PostcopyChoice.Parse(text));
}
