using OpenMosix.Daemon.Migration;

namespace OpenMosix.Daemon.Tests.Migration;

/// <summary>The bandwidth limit's arithmetic (migration.bandwidth_limit_mib_s), on a clock the test moves.</summary>
public sealed class BandwidthPacerTests
{
    private const long MiB = 1 << 20;

    private sealed class Clock
    {
        public TimeSpan Now = TimeSpan.FromSeconds(100);
        public TimeSpan Read() => Now;
    }

    [Fact]
    public void The_first_frame_goes_at_once_and_each_next_one_waits_its_time_at_the_limit()
    {
        var clock = new Clock();
        var pacer = new BandwidthPacer(10 * MiB, clock.Read);
        Assert.Equal(TimeSpan.Zero, pacer.Reserve(MiB));
        // Sent back to back with no time passing: 100 ms per MiB, less the 50 ms of credit.
        var second = pacer.Reserve(MiB);
        var third = pacer.Reserve(MiB);
        Assert.Equal(TimeSpan.FromMilliseconds(100) - BandwidthPacer.Burst, second);
        Assert.Equal(second + TimeSpan.FromMilliseconds(100), third);
    }

    [Fact]
    public void A_sender_that_waits_as_told_sends_a_gibibyte_at_32_mib_s_in_32_s()
    {
        var clock = new Clock();
        var pacer = new BandwidthPacer(32 * MiB, clock.Read);
        var start = clock.Now;
        for (var frame = 0; frame < 1024; frame++)
        {
            clock.Now += pacer.Reserve(MiB);
            // The send itself takes a little time, which the limit does not add to.
            clock.Now += TimeSpan.FromMilliseconds(2);
        }
        var took = (clock.Now - start).TotalSeconds;
        Assert.InRange(took, 31.8, 32.1);
    }

    [Fact]
    public void Late_wake_ups_do_not_slow_a_move_under_its_limit()
    {
        var clock = new Clock();
        var pacer = new BandwidthPacer(16 * MiB, clock.Read);
        var start = clock.Now;
        for (var frame = 0; frame < 160; frame++)
        {
            // A loaded machine wakes the sender 20 ms after it asked (less than the burst credit).
            if (pacer.Reserve(MiB) is { Ticks: > 0 } wait) clock.Now += wait + TimeSpan.FromMilliseconds(20);
        }
        Assert.InRange((clock.Now - start).TotalSeconds, 9.85, 10.1);
    }

    [Fact]
    public void A_long_pause_buys_no_more_than_the_burst_above_the_limit()
    {
        var clock = new Clock();
        var pacer = new BandwidthPacer(10 * MiB, clock.Read);
        pacer.Reserve(10 * MiB);
        clock.Now += TimeSpan.FromMinutes(5);
        // 50 ms of credit at 10 MiB/s is 0.5 MiB: what goes without a wait is that and the piece that begins on time.
        var free = 0L;
        while (pacer.Reserve(64 << 10) == TimeSpan.Zero) free += 64 << 10;
        Assert.InRange(free, MiB / 2, MiB / 2 + (64 << 10));
    }

    [Fact]
    public void A_push_held_back_is_told_how_long_and_counts_nothing_until_it_may_go()
    {
        var clock = new Clock();
        var pacer = new BandwidthPacer(4 * MiB, clock.Read);
        Assert.True(pacer.TryReserve(MiB, out var wait));
        Assert.Equal(TimeSpan.Zero, wait);
        // 1 MiB at 4 MiB/s is 250 ms, less the 50 ms of credit.
        Assert.False(pacer.TryReserve(MiB / 4, out wait));
        Assert.Equal(TimeSpan.FromMilliseconds(200), wait);
        Assert.False(pacer.TryReserve(MiB / 4, out var again));
        Assert.Equal(wait, again);
        clock.Now += wait;
        Assert.True(pacer.TryReserve(MiB / 4, out _));
        Assert.False(pacer.TryReserve(MiB / 4, out wait));
        Assert.Equal(TimeSpan.FromMilliseconds(62.5), wait);
    }

    [Fact]
    public void A_limit_of_zero_is_no_pacer_and_a_limit_in_mib_s_counts_mebibytes()
    {
        Assert.Null(BandwidthPacer.ForLimit(0));
        Assert.Equal(32.0 * MiB, BandwidthPacer.ForLimit(32)!.BytesPerSecond);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BandwidthPacer(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BandwidthPacer(double.NaN));
    }
}
