using System.Text;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration.Guest;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Tests.Migration;

/// <summary>The guest's side of a takeover of home: what it keeps of its output, and who may take it over.</summary>
public sealed class GuestTakeoverPartsTests
{
    [Fact]
    public void Output_sent_is_given_back_from_what_home_delivered_and_refused_once_no_longer_kept()
    {
        var sent = new SentOutput();
        sent.Record(Encoding.ASCII.GetBytes("tick 1\n"));
        sent.Record(Encoding.ASCII.GetBytes("tick 2\n"));
        Assert.Equal("ick 1\ntick 2\n", Encoding.ASCII.GetString(sent.After(1)!));
        Assert.Empty(sent.After(14)!);
        Assert.Null(sent.After(15));

        // The last Kept bytes, in order across the ring's end: older bytes are refused.
        var big = new SentOutput();
        var pattern = Enumerable.Range(0, SentOutput.Kept).Select(i => (byte)(i * 7 + i / 4096)).ToArray();
        big.Record(pattern);
        big.Record(Encoding.ASCII.GetBytes("0123456789"));
        Assert.Null(big.After(0));
        Assert.Equal([.. pattern[10..], .. Encoding.ASCII.GetBytes("0123456789")], big.After(10)!);
        Assert.Equal("56789", Encoding.ASCII.GetString(big.After(SentOutput.Kept + 5)!));
        big.Record(new byte[SentOutput.Kept]);
        Assert.Equal(2L * SentOutput.Kept + 10, big.Total);
        Assert.Null(big.After(SentOutput.Kept));
        Assert.Equal(SentOutput.Kept, big.After(SentOutput.Kept + 10)!.Length);

        // A ring still growing keeps everything; one chunk larger than Kept keeps its own last Kept bytes.
        var growing = new SentOutput(start: 100);
        var chunks = Enumerable.Range(0, 40).Select(i => Enumerable.Repeat((byte)i, 3000 + i).ToArray()).ToList();
        foreach (var chunk in chunks) growing.Record(chunk);
        Assert.Equal(chunks.SelectMany(c => c).ToArray(), growing.After(100));
        Assert.Null(growing.After(99));
        var huge = new SentOutput();
        var hugeChunk = Enumerable.Range(0, SentOutput.Kept + 3).Select(i => (byte)(i % 251)).ToArray();
        huge.Record(hugeChunk);
        Assert.Equal(hugeChunk[3..], huge.After(3));
        Assert.Null(huge.After(2));
    }

    [Fact]
    public void Output_read_straight_into_the_ring_is_kept_in_order_with_the_byte_a_frame_borrows_put_back()
    {
        // As the pump does: read into the room, count it taken, send it with the descriptor in the byte before, put
        // that byte back. Reads of varying sizes, past the ring's end several times over.
        var sent = new SentOutput(start: 7);
        var written = new List<byte>();
        var random = new Random(20);
        long total = 0;
        while (total < 3L * SentOutput.Capacity)
        {
            var room = sent.Room(NodeLink.MaxPayload - 1);
            Assert.InRange(room.Length, 2, NodeLink.MaxPayload);
            var n = Math.Min(room.Length - 1, random.Next(1, NodeLink.MaxPayload));
            for (var i = 0; i < n; i++) room.Span[1 + i] = (byte)((total + i) * 31 % 253);
            sent.Took(n);
            var borrowed = room.Span[0];
            room.Span[0] = 1;
            Assert.Equal(1, room.Span[0]);
            room.Span[0] = borrowed;
            total += n;
        }
        Assert.Equal(7 + total, sent.Total);
        // At least the last Kept bytes, byte for byte (the borrowed ones among them put back); nothing before what is kept.
        var from = 7 + total - SentOutput.Kept;
        var kept = sent.After(from)!;
        Assert.Equal(SentOutput.Kept, kept.Length);
        for (var i = 0; i < kept.Length; i++)
            Assert.Equal((byte)((from - 7 + i) * 31 % 253), kept[i]);
        Assert.Null(sent.After(7 + total - SentOutput.Capacity - 1));

        // Still growing, everything is kept, starting from the first byte.
        var young = new SentOutput();
        var room2 = young.Room(100);
        "hello"u8.CopyTo(room2.Span[1..]);
        young.Took(5);
        young.Record(" world"u8);
        Assert.Equal("hello world", Encoding.ASCII.GetString(young.After(0)!));
    }

    [Fact]
    public async Task A_resume_reaches_only_the_guest_of_that_home_and_that_copy_even_before_it_waits()
    {
        var resumes = new GuestResumes();
        using var expected = resumes.Expect(home: 1, homePid: 42, remotePid: 4242);
        Assert.Equal(1, resumes.Count);
        Assert.False(resumes.Hand(2, new Resumption(null!, new Resume(42, 4242, []))));
        Assert.False(resumes.Hand(1, new Resumption(null!, new Resume(42, 9999, []))));
        Assert.False(expected.Pending);
        var resumption = new Resumption(null!, new Resume(42, 4242, [new OutputCount(1, 5)]));
        Assert.True(resumes.Hand(1, resumption));
        Assert.True(expected.Pending);
        Assert.False(resumes.Hand(1, new Resumption(null!, new Resume(42, 4242, []))));
        Assert.Same(resumption, await expected.WaitAsync(TimeSpan.FromMinutes(5), CancellationToken.None));
        Assert.False(expected.Pending);
        // Taken over once, it may be taken over again by a later omd.
        Assert.True(resumes.Hand(1, new Resumption(null!, new Resume(42, 4242, []))));
    }

    [Fact]
    public async Task A_guest_not_taken_over_within_its_window_is_given_up_and_an_ended_guest_is_taken_over_no_more()
    {
        var resumes = new GuestResumes();
        var expected = resumes.Expect(1, 42, 4242);
        Assert.Null(await expected.WaitAsync(TimeSpan.Zero, CancellationToken.None));
        expected.Dispose();
        Assert.Equal(0, resumes.Count);
        Assert.False(resumes.Hand(1, new Resumption(null!, new Resume(42, 4242, []))));
    }

    [Fact]
    public void An_exit_sent_home_is_remembered_for_that_home_and_that_copy_until_it_is_too_old()
    {
        var now = 1_000L;
        var resumes = new GuestResumes { Now = () => now };
        using (var expected = resumes.Expect(home: 1, homePid: 42, remotePid: 4242))
            expected.Exiting(new Exited(3, 0) { UnreadInput = [1, 2] });
        Assert.Equal(new Exited(3, 0), resumes.RecentExit(1, 42, 4242));
        Assert.Null(resumes.RecentExit(2, 42, 4242));
        Assert.Null(resumes.RecentExit(1, 42, 9999));
        Assert.Null(resumes.RecentExit(1, 43, 4242));
        now += (long)GuestResumes.ExitsKept.TotalMilliseconds + 1;
        Assert.Null(resumes.RecentExit(1, 42, 4242));
    }

    [Fact]
    public async Task Home_asking_after_its_link_broke_under_the_exit_hears_the_exit_and_not_a_refusal()
    {
        var cancel = TestContext.Current.CancellationToken;
        var resumes = new GuestResumes();
        using (var expected = resumes.Expect(home: 1, homePid: 42, remotePid: 4242))
            expected.Exiting(new Exited(0, 0));
        var (homeLink, guestLink) = await LinkPairs.ConnectAsync();
        await using (homeLink)
        await using (guestLink)
        {
            var (home, guest, request) = await AskAsync(homeLink, guestLink, remotePid: 4242, cancel);
            await GuestTakeover.HandAsync(resumes, guest, request, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, cancel);
            Assert.Equal(new Exited(0, 0), await home.ReceiveAsync(TimeSpan.FromMinutes(1)));
            // Another copy of that process is none this node knows: refused, as before.
            (home, guest, request) = await AskAsync(homeLink, guestLink, remotePid: 9999, cancel);
            await GuestTakeover.HandAsync(resumes, guest, request, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, cancel);
            Assert.IsType<Refuse>(await home.ReceiveAsync(TimeSpan.FromMinutes(1)));
        }
    }

    [Fact]
    public async Task Home_asking_while_the_exited_guest_still_ends_hears_the_exit()
    {
        var cancel = TestContext.Current.CancellationToken;
        var resumes = new GuestResumes();
        var (homeLink, guestLink) = await LinkPairs.ConnectAsync();
        await using (homeLink)
        await using (guestLink)
        {
            var (home, guest, request) = await AskAsync(homeLink, guestLink, remotePid: 4242, cancel);
            using (var expected = resumes.Expect(home: 1, homePid: 42, remotePid: 4242))
            {
                expected.Exiting(new Exited(0, 15));
                Assert.True(resumes.Hand(1, new Resumption(guest, request)));
            }
            Assert.Equal(new Exited(0, 15), await home.ReceiveAsync(TimeSpan.FromMinutes(1)));
        }
    }

    /// <summary>
    /// The link broke after the exit went home and before home closed it (a reset, a timeout, home's omd killed), so
    /// home may have read neither the exit nor the last output: asked, the node sends the output past what home says it
    /// delivered, as a resumed relay would, then the exit, and holds the link until home closes it.
    /// </summary>
    [Fact]
    public async Task Home_asking_after_its_link_broke_under_the_exit_is_sent_the_output_it_did_not_get_then_the_exit()
    {
        var cancel = TestContext.Current.CancellationToken;
        var resumes = new GuestResumes();
        var sent = new SentOutput();
        sent.Record(Encoding.ASCII.GetBytes("tick 0\n"));
        sent.Record(Encoding.ASCII.GetBytes("last\n"));
        using (var expected = resumes.Expect(home: 1, homePid: 42, remotePid: 4242))
        {
            expected.Exiting(new Exited(7, 0));
            expected.KeepOutput(new Dictionary<int, SentOutput> { [1] = sent }, inputReceived: 5);
        }
        var (homeLink, guestLink) = await LinkPairs.ConnectAsync();
        await using (guestLink)
        {
            var home = new Conversation(homeLink, Side.Home);
            var guest = new Conversation(guestLink, Side.Guest);
            await home.SendAsync(new Resume(42, 4242, [new OutputCount(1, 7)]), cancel);
            var request = Assert.IsType<Resume>(await guest.ReceiveAsync(TimeSpan.FromMinutes(1)));
            var told = GuestTakeover.HandAsync(resumes, guest, request, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, cancel);
            Assert.Equal(new Resumed(5), await home.ReceiveAsync(TimeSpan.FromMinutes(1)));
            var output = (await homeLink.ReceiveAsync(cancel))!.Value;
            Assert.Equal(FrameType.Stdio, output.Type);
            Assert.Equal([1, .. Encoding.ASCII.GetBytes("last\n")], output.Payload);
            Assert.Equal(new Exited(7, 0), home.Read((await homeLink.ReceiveAsync(cancel))!.Value));
            // Held until home closes it: closed first from there, the link could be reset under what home still reads.
            Assert.False(told.IsCompleted);
            await homeLink.DisposeAsync();
            await told.WaitAsync(TimeSpan.FromMinutes(1), cancel);
        }

        // Home that had delivered all of it hears the exit alone, as before.
        (homeLink, guestLink) = await LinkPairs.ConnectAsync();
        await using (homeLink)
        await using (guestLink)
        {
            var home = new Conversation(homeLink, Side.Home);
            var guest = new Conversation(guestLink, Side.Guest);
            await home.SendAsync(new Resume(42, 4242, [new OutputCount(1, 12)]), cancel);
            var request = Assert.IsType<Resume>(await guest.ReceiveAsync(TimeSpan.FromMinutes(1)));
            await GuestTakeover.HandAsync(resumes, guest, request, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, cancel);
            Assert.Equal(new Exited(7, 0), await home.ReceiveAsync(TimeSpan.FromMinutes(1)));
        }
    }

    /// <summary>
    /// The output is kept from the moment the exit goes home, since home's next omd may ask before the node sees the old
    /// link break (a cut gives no sign; a fresh-clone run lost the last lines so), and let go only when home closed the
    /// link having read everything: then a later ask hears the exit alone.
    /// </summary>
    [Fact]
    public void Output_kept_with_an_exit_goes_once_home_closed_the_link_and_the_exit_stays()
    {
        var resumes = new GuestResumes();
        var sent = new SentOutput();
        sent.Record(Encoding.ASCII.GetBytes("last\n"));
        using var expected = resumes.Expect(home: 1, homePid: 42, remotePid: 4242);
        expected.Exiting(new Exited(7, 0));
        expected.KeepOutput(new Dictionary<int, SentOutput> { [1] = sent }, inputReceived: 5);
        Assert.NotNull(resumes.RecentEnd(1, 42, 4242)?.Output);

        expected.ExitRead();
        var end = resumes.RecentEnd(1, 42, 4242);
        Assert.NotNull(end);
        Assert.Null(end.Output);
        Assert.Equal(new Exited(7, 0), end.Exit);
    }

    /// <summary>Home asks the node for its copy <paramref name="remotePid"/> of process 42 over a fresh conversation on
    /// the pair; returns both ends and the request as the node received it.</summary>
    private static async Task<(Conversation Home, Conversation Guest, Resume Request)> AskAsync(
        NodeLink homeLink, NodeLink guestLink, int remotePid, CancellationToken cancel)
    {
        var home = new Conversation(homeLink, Side.Home);
        var guest = new Conversation(guestLink, Side.Guest);
        await home.SendAsync(new Resume(42, remotePid, []), cancel);
        return (home, guest, Assert.IsType<Resume>(await guest.ReceiveAsync(TimeSpan.FromMinutes(1))));
    }
}
