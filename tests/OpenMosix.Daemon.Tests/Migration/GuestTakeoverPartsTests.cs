using System.Text;
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
}
