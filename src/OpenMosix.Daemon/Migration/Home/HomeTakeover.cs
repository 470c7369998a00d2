using System.Net;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// A new omd takes over home's processes that were running away when the last omd died without a drain
/// (<see cref="AwayStateFile"/>): each whose PID still names the process that started then has its deputy traced again,
/// is registered as away, and its copy's node is asked, over a new authenticated link, to relay it on that link
/// (<see cref="Resume"/>, with how much output home delivered). That node's omd keeps such a copy stopped while it
/// waits; it sends again the output home never got and lets it run. A copy its node no longer has (it gave up
/// waiting, or it ended without home hearing of it), or a node out of reach for the whole window, leaves the process
/// lost: the deputy ends as if killed, as it would have with no takeover.
/// </summary>
internal sealed class HomeTakeover(HomeSide home, LinkSecurity security, LinkLiveness? liveness, ReturnTrip trip, MoveOnRequests moveOn)
{
    private static readonly TimeSpan Retry = TimeSpan.FromMilliseconds(500);

    public async Task RunAsync(IReadOnlyList<SavedAway> saved, TimeSpan window)
    {
        if (saved.Count == 0) return;
        HomeLog.TakingOver(home.Logger, saved.Count);
        await Task.WhenAll(saved.Select(entry => Task.Run(() => TakeOverAsync(entry, window)))).ConfigureAwait(false);
    }

    private async Task TakeOverAsync(SavedAway saved, TimeSpan window)
    {
        var pid = saved.Process.Pid;
        if (ProcessRegistry.StartTimeOf(pid) != saved.Process.StartTime)
        {
            HomeLog.NotAwayAnyMore(home.Logger, pid);
            home.Away?.Remove(pid);
            return;
        }
        var process = Processes.ManagedStateFile.Process(saved.Process, home.Self);
        if (!home.Registry.TakeBack(process))
        {
            HomeLog.NotAwayAnyMore(home.Logger, pid);
            home.Away?.Remove(pid);
            return;
        }
        process = home.Registry.Find(pid) ?? process;
        home.Registry.Update(process, p =>
        {
            p.State = ProcessState.Remote;
            p.Where = (ushort)saved.Node;
            p.RemotePid = saved.RemotePid;
        });
        try
        {
            home.Deputies.AdoptDeputy(pid);
        }
        catch (Exception e) when (e is SyscallException or InvalidOperationException or ProcessAccessException
                                       or Checkpoint.Tracing.TraceeGoneException or Checkpoint.Tracing.InjectionException)
        {
            home.Away?.Remove(pid);
            HomeRelay.Lose(home, process, $"its deputy could not be traced again: {e.Message}");
            return;
        }
        var counts = home.Away!.Counts(pid, fresh: false);
        var (why, ended) = await ResumeAsync(process, saved, counts, window).ConfigureAwait(false);
        if (why is null && ended is null) return;
        counts.Dispose();
        home.Away.Remove(pid);
        if (ended is { } status) HomeRelay.EndAs(home, process, status);
        else HomeRelay.Lose(home, process, $"not taken over from node {saved.Node}: {why}");
    }

    /// <summary>Asks the copy's node until it answers or the window closes: no reason once the relay runs again, the
    /// copy's exit status when it ended there before home heard it (the node remembers recent exits), or why not.
    /// <paramref name="ledger"/>: the input the last relay of this omd kept (none when the omd that relayed it died).</summary>
    internal async Task<ResumeAnswer> ResumeAsync(ManagedProcess process, SavedAway saved, DeliveredCounts counts, TimeSpan window, InputLedger? ledger = null)
    {
        var endpoint = IPEndPoint.Parse(saved.Endpoint);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var checkpointMs = home.Checkpoints is null ? 0 : (int)home.CheckpointEvery.TotalMilliseconds;
        while (true)
        {
            NodeLink? link = null;
            try
            {
                using var connecting = new CancellationTokenSource(HomeSide.AnswerTimeout);
                link = await NodeLink.ConnectAsync(endpoint, home.Self, (ushort)saved.Node, security, connecting.Token, liveness).ConfigureAwait(false);
                var talk = new Conversation(link, Side.Home);
                await talk.SendAsync(new Resume(process.Pid, saved.RemotePid, counts.Of(saved.Outputs), checkpointMs)).ConfigureAwait(false);
                switch (await talk.ReceiveAsync(HomeSide.AnswerTimeout).ConfigureAwait(false))
                {
                    case Resumed resumed:
                        HomeLog.TakenOver(home.Logger, process.Pid, saved.Node, saved.RemotePid, saved.Outputs.Sum(counts.Of));
                        HomeRelay.Resume(home, process, talk, saved, counts, resumed.InputReceived, trip, moveOn, ledger);
                        return new(null);
                    case Exited exited:
                        await link.DisposeAsync().ConfigureAwait(false);
                        HomeLog.ExitHeardLate(home.Logger, process.Pid, saved.Node);
                        return new(null, new ExitStatus(exited.Code, exited.Signal));
                    case Refuse refused:
                        await link.DisposeAsync().ConfigureAwait(false);
                        return new(refused.Reason);
                }
            }
            catch (Exception e) when (e is LinkException or IOException or OperationCanceledException or System.Net.Sockets.SocketException)
            {
                if (link is not null) await link.DisposeAsync().ConfigureAwait(false);
                if (clock.Elapsed + Retry >= window) return new(e.Message);
            }
            await Task.Delay(Retry).ConfigureAwait(false);
        }
    }
}

/// <summary>A resume's answer: neither set once the relay runs again; <paramref name="Ended"/> when the copy had ended
/// on its node before home heard it; otherwise <paramref name="Why"/> not.</summary>
internal readonly record struct ResumeAnswer(string? Why, ExitStatus? Ended = null);
