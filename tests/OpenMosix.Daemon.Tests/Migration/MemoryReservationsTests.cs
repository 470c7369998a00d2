using OpenMosix.Daemon.Migration;

namespace OpenMosix.Daemon.Tests.Migration;

public sealed class MemoryReservationsTests
{
    [Fact]
    public void Promises_add_up_until_each_is_released()
    {
        var reservations = new MemoryReservations();
        var first = reservations.Reserve(300);
        using (reservations.Reserve(200))
            Assert.Equal(500, reservations.Reserved);
        Assert.Equal(300, reservations.Reserved);
        first.Dispose();
        Assert.Equal(0, reservations.Reserved);
    }

    [Fact]
    public void A_kept_promise_outlives_its_disposal_until_its_time_is_up()
    {
        var reservations = new MemoryReservations();
        using (var kept = reservations.Reserve(100))
            kept.Keep(TimeSpan.FromMinutes(5));
        Assert.Equal(100, reservations.Reserved);

        using (var brief = reservations.Reserve(50))
            brief.Keep(TimeSpan.Zero);
        Assert.Equal(100, reservations.Reserved);
    }

    [Fact]
    public void A_negative_size_promises_nothing()
    {
        var reservations = new MemoryReservations();
        using var odd = reservations.Reserve(-5);
        Assert.Equal(0, reservations.Reserved);
    }
}
