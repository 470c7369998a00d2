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

    private const long MiB = 1 << 20;

    [Fact]
    public void A_process_that_wrote_half_its_memory_or_more_within_the_probe_is_post_copied_before_any_round()
    {
        // 96 MiB resident, all of it written within 100 ms (a fast rewriter): a round would be sent again whole.
        Assert.True(PostcopyChoice.PreferAtOnce(96 * MiB, 96 * MiB, Probe, Link));
        Assert.True(PostcopyChoice.PreferAtOnce(512 * MiB, 256 * MiB, Probe, Link));
    }

    [Fact]
    public void A_process_quiet_but_for_a_hot_region_is_pre_copied_even_though_it_writes_fast()
    {
        // 512 MiB resident, a 32 MiB region rewritten over and over: fast, but the rounds send the rest.
        Assert.True(PostcopyChoice.Prefer(512 * MiB, 32 * MiB, Probe, Link));
        Assert.False(PostcopyChoice.PreferAtOnce(512 * MiB, 32 * MiB, Probe, Link));
    }

    [Fact]
    public void A_process_writing_slowly_is_not_post_copied_before_any_round()
    {
        Assert.False(PostcopyChoice.PreferAtOnce(8 * MiB, 4 * MiB, TimeSpan.FromSeconds(10), Link));
    }

    [Fact]
    public void Rounds_go_on_while_what_is_left_halves_each_time()
    {
        // Round 1 sent 512 MiB, 40 MiB written meanwhile; round 2 sent those 40, 8 written meanwhile.
        Assert.Equal(NextStep.Round, PostcopyChoice.AfterRound(1, 4, 512 * MiB, long.MaxValue, 40 * MiB, postcopy: true));
        Assert.Equal(NextStep.Round, PostcopyChoice.AfterRound(2, 4, 40 * MiB, 512 * MiB, 8 * MiB, postcopy: true));
    }

    [Fact]
    public void What_is_left_under_small_enough_is_frozen_whatever_the_round()
    {
        Assert.Equal(NextStep.Freeze, PostcopyChoice.AfterRound(1, 4, 512 * MiB, long.MaxValue, 3 * MiB, postcopy: true));
        Assert.Equal(NextStep.Freeze, PostcopyChoice.AfterRound(4, 4, 6 * MiB, 12 * MiB, 3 * MiB, postcopy: true));
    }

    [Fact]
    public void A_hot_region_the_rounds_cannot_catch_up_with_goes_by_post_copy_after_them()
    {
        // Round 2 sent the 32 MiB hot region and it was all written again meanwhile: another round would send it again.
        Assert.Equal(NextStep.Postcopy, PostcopyChoice.AfterRound(2, 4, 32 * MiB, 512 * MiB, 32 * MiB, postcopy: true));
        // A round that sent more than half the one before, too: nothing is converging.
        Assert.Equal(NextStep.Postcopy, PostcopyChoice.AfterRound(3, 4, 30 * MiB, 40 * MiB, 10 * MiB, postcopy: true));
    }

    [Fact]
    public void A_process_rewriting_everything_goes_by_post_copy_after_its_first_round()
    {
        Assert.Equal(NextStep.Postcopy, PostcopyChoice.AfterRound(1, 4, 512 * MiB, long.MaxValue, 512 * MiB, postcopy: true));
    }

    [Fact]
    public void Rounds_used_up_with_more_than_small_enough_left_end_in_post_copy()
    {
        // Still shrinking, but the last round allowed: 8 MiB left.
        Assert.Equal(NextStep.Postcopy, PostcopyChoice.AfterRound(4, 4, 20 * MiB, 80 * MiB, 8 * MiB, postcopy: true));
        Assert.Equal(NextStep.Postcopy, PostcopyChoice.AfterRound(1, 1, 512 * MiB, long.MaxValue, 32 * MiB, postcopy: true));
    }

    [Fact]
    public void Without_post_copy_rounds_that_do_not_converge_end_in_the_freeze_as_before()
    {
        Assert.Equal(NextStep.Freeze, PostcopyChoice.AfterRound(2, 4, 32 * MiB, 512 * MiB, 32 * MiB, postcopy: false));
        Assert.Equal(NextStep.Freeze, PostcopyChoice.AfterRound(4, 4, 20 * MiB, 80 * MiB, 8 * MiB, postcopy: false));
        Assert.Equal(NextStep.Round, PostcopyChoice.AfterRound(1, 4, 512 * MiB, long.MaxValue, 40 * MiB, postcopy: false));
    }

    [Theory]
    [InlineData("auto", PostcopyMode.Auto)]
    [InlineData("never", PostcopyMode.Never)]
    [InlineData("always", PostcopyMode.Always)]
    public void The_three_settings_parse(string text, PostcopyMode mode) => Assert.Equal(mode, PostcopyChoice.Parse(text));

    [Fact]
    public void A_process_asleep_through_the_quiet_window_ends_the_probe_early()
    {
        // 20 ms watched, its threads wanted 1 ms of CPU, wrote 4 pages.
        Assert.True(PostcopyChoice.SleptThrough(PostcopyChoice.QuietWindow, TimeSpan.FromMilliseconds(1), 16 << 10));
    }

    [Fact]
    public void The_probe_is_not_ended_early_before_the_quiet_window()
    {
        Assert.False(PostcopyChoice.SleptThrough(PostcopyChoice.QuietWindow / 2, TimeSpan.Zero, 0));
    }

    [Fact]
    public void A_process_waiting_for_a_cpu_is_watched_for_the_whole_probe()
    {
        // On a crowded node a CPU-bound process runs little but waits runnable: what it wanted counts, not what it got.
        Assert.False(PostcopyChoice.SleptThrough(TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(25), 0));
    }

    [Fact]
    public void A_process_that_wrote_much_while_mostly_asleep_is_watched_for_the_whole_probe()
    {
        Assert.False(PostcopyChoice.SleptThrough(TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(1), 8 * MiB));
    }
}
