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

        var big = new SentOutput();
        big.Record(new byte[SentOutput.Kept]);
        big.Record(new byte[10]);
        Assert.Equal(SentOutput.Kept + 10, big.Total);
        Assert.Null(big.After(0));
        Assert.Equal(10, big.After(SentOutput.Kept)!.Length);
    }

    [Fact]
    public async Task A_resume_reaches_only_the_guest_that_waits_for_it_from_that_home_and_that_copy()
    {
        var resumes = new GuestResumes();
        var waiting = resumes.WaitAsync(home: 1, homePid: 42, remotePid: 4242, TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.Equal(1, resumes.Waiting);
        Assert.False(resumes.Hand(2, new Resumption(null!, new Resume(42, 4242, []))));
        Assert.False(resumes.Hand(1, new Resumption(null!, new Resume(42, 9999, []))));
        Assert.False(waiting.IsCompleted);
        var resumption = new Resumption(null!, new Resume(42, 4242, [new OutputCount(1, 5)]));
        Assert.True(resumes.Hand(1, resumption));
        Assert.Same(resumption, await waiting);
        Assert.Equal(0, resumes.Waiting);
        Assert.False(resumes.Hand(1, resumption));
    }

    [Fact]
    public async Task A_guest_not_taken_over_within_its_window_is_given_up()
    {
        var resumes = new GuestResumes();
        Assert.Null(await resumes.WaitAsync(1, 42, 4242, TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(0, resumes.Waiting);
        Assert.False(resumes.Hand(1, new Resumption(null!, new Resume(42, 4242, []))));
    }
}
