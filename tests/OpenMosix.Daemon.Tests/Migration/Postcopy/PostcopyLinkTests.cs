using OpenMosix.Checkpoint.Postcopy;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration.Postcopy;
using Microsoft.Extensions.Logging.Abstractions;

namespace OpenMosix.Daemon.Tests.Migration.Postcopy;

/// <summary>
/// Post-copy's Pages frames on a real link pair: the copy's node asks, home answers from its page source, zero pages
/// travel without their bytes, and a link that ends or a home that stopped serving fails the fetch (the copy is then
/// killed, never given zeros for pages it lacks).
/// </summary>
public sealed class PostcopyLinkTests
{
    /// <summary>Pages whose every byte says where it is (the low byte of its 8-byte word's address), zeros above 1 GiB.</summary>
    private sealed class PatternPages : IPageSource
    {
        public const ulong ZeroFrom = 1UL << 30;
        public int Fetches;

        public void Fetch(ulong address, Span<byte> destination)
        {
            Interlocked.Increment(ref Fetches);
            for (var i = 0; i < destination.Length; i++)
                destination[i] = address >= ZeroFrom ? (byte)0 : (byte)((address + (ulong)i) >> 3);
        }
    }

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Pages_asked_for_over_the_link_come_from_homes_source_and_zero_pages_come_without_their_bytes()
    {
        var (homeLink, guestLink) = await LinkPairs.ConnectAsync();
        await using (homeLink)
        await using (guestLink)
        {
            var source = new PatternPages();
            var home = new HomePageService(homeLink, source, NullLogger.Instance).Attach();
            var pages = new LinkPageSource(guestLink, Patience).Attach();

            var run = new byte[16 * PageWire.PageSize];
            Assert.False(pages.FetchUnlessZero(0x1000_1000, run));
            var expected = new byte[run.Length];
            new PatternPages().Fetch(0x1000_1000, expected);
            Assert.Equal(expected, run);

            var zero = new byte[64 * PageWire.PageSize];
            zero.AsSpan().Fill(0xAA);
            Assert.True(pages.FetchUnlessZero(PatternPages.ZeroFrom, zero));
            // Left as it was: the caller maps zero pages instead of copying.
            Assert.All(zero, b => Assert.Equal(0xAA, b));
            pages.Fetch(PatternPages.ZeroFrom, zero);
            Assert.All(zero, b => Assert.Equal(0, b));

            Assert.Equal(2 * zero.Length, pages.ZeroBytes);
            Assert.Equal(run.Length + 2L * zero.Length, pages.BytesFetched);
            Assert.Equal(2 * zero.Length, home.ZeroBytesServed);
            Assert.Equal(3, home.Requests);
            await home.Stop("test over");
        }
    }

    [Fact]
    public async Task Several_fetches_at_once_each_get_their_own_pages()
    {
        var (homeLink, guestLink) = await LinkPairs.ConnectAsync();
        await using (homeLink)
        await using (guestLink)
        {
            var home = new HomePageService(homeLink, new PatternPages(), NullLogger.Instance).Attach();
            var pages = new LinkPageSource(guestLink, Patience).Attach();
            // A fork's child is served by a thread of its own, with the same source.
            var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            {
                var address = 0x10000000UL + (ulong)i * 0x100000;
                var buffer = new byte[4 * PageWire.PageSize];
                for (var round = 0; round < 20; round++) pages.Fetch(address + (ulong)round * (ulong)buffer.Length, buffer);
                var expected = new byte[buffer.Length];
                new PatternPages().Fetch(address + 19UL * (ulong)buffer.Length, expected);
                return buffer.AsSpan().SequenceEqual(expected);
            }, TestContext.Current.CancellationToken)));
            Assert.All(results, Assert.True);
            Assert.Equal(160, home.Requests);
            await home.Stop("test over");
        }
    }

    [Fact]
    public async Task A_fetch_fails_once_the_link_ends_and_so_does_every_later_one()
    {
        var (homeLink, guestLink) = await LinkPairs.ConnectAsync();
        await using (guestLink)
        {
            var pages = new LinkPageSource(guestLink, Patience).Attach();
            // Home never answers: it closes the link while the fetch waits.
            var fetch = Task.Run(() => pages.Fetch(0x1000, new byte[PageWire.PageSize]), TestContext.Current.CancellationToken);
            await Task.Delay(100, TestContext.Current.CancellationToken);
            await homeLink.DisposeAsync();
            await Assert.ThrowsAsync<IOException>(() => fetch.WaitAsync(Patience, TestContext.Current.CancellationToken));
            var later = Assert.Throws<IOException>(() => pages.Fetch(0x2000, new byte[PageWire.PageSize]));
            Assert.Contains("cannot come from home", later.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Home_refuses_pages_once_it_stopped_serving_and_the_fetch_says_why()
    {
        var (homeLink, guestLink) = await LinkPairs.ConnectAsync();
        await using (homeLink)
        await using (guestLink)
        {
            var source = new PatternPages();
            var home = new HomePageService(homeLink, source, NullLogger.Instance).Attach();
            var pages = new LinkPageSource(guestLink, Patience).Attach();
            await home.Stop("the original runs again at home");
            var error = Assert.Throws<IOException>(() => pages.Fetch(0x1000, new byte[PageWire.PageSize]));
            Assert.Contains("home refused: the original runs again at home", error.Message, StringComparison.Ordinal);
            Assert.Equal(0, source.Fetches);
        }
    }

    [Fact]
    public async Task A_fetch_that_gets_no_answer_in_time_declares_the_link_dead()
    {
        var (homeLink, guestLink) = await LinkPairs.ConnectAsync();
        await using (homeLink)
        await using (guestLink)
        {
            // Home takes the request and never answers (a hung omd): the copy's node gives the link up.
            homeLink.DivertPages(new Swallow());
            var pages = new LinkPageSource(guestLink, TimeSpan.FromMilliseconds(300)).Attach();
            var error = Assert.Throws<IOException>(() => pages.Fetch(0x1000, new byte[PageWire.PageSize]));
            Assert.Contains("did not send pages", error.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<LinkException>(() => guestLink.SendAsync(FrameType.Control, new byte[1], TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public async Task A_pages_frame_outside_a_post_copy_ends_the_link_as_a_protocol_error()
    {
        var (homeLink, guestLink) = await LinkPairs.ConnectAsync();
        await using (homeLink)
        await using (guestLink)
        {
            await guestLink.SendAsync(FrameType.Pages, PageWire.EncodeRequest(1, 0x1000, PageWire.PageSize), TestContext.Current.CancellationToken);
            var error = await Assert.ThrowsAsync<LinkException>(() => homeLink.ReceiveAsync(TestContext.Current.CancellationToken));
            Assert.Contains("Pages frame outside a post-copy", error.Message, StringComparison.Ordinal);
        }
    }

    private sealed class Swallow : IPageFrames
    {
        public void Arrived(Frame frame)
        {
        }

        public void LinkEnded(string reason)
        {
        }
    }
}
