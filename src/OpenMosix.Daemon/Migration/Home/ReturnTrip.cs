using Microsoft.Win32.SafeHandles;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Daemon.Web.Metrics;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// A moved process's trip home: home asks for it (come-home), its node pre-copies it in rounds while it runs on if
/// asked to (each rebuilt into the deputy at once), then freezes it and streams its image back (image-follows), and it
/// is rebuilt into its deputy (same PID, same parent, its own descriptors). Home answers "home" (the copy there ends)
/// or "stay" (it runs on where it was), to a round or to the image. Input the copy had not read comes first on its
/// stdin here; input its node dropped while it was frozen goes to it again if it stays.
/// </summary>
internal sealed class ReturnTrip(HomeSide home)
{
    /// <summary>How long a trip home may take before its caller stops waiting.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(10);

    public async Task<MigrationResult> BringHomeAsync(ManagedProcess process, bool precopy, int rounds)
    {
        ArgumentNullException.ThrowIfNull(process);
        var homecoming = new TaskCompletionSource<MigrationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var relay = home.Relays.BeginHomecoming(process.Pid, homecoming);
        home.Registry.Update(process, p => p.State = ProcessState.Migrating);
        try
        {
            await relay.AskHomeAsync(new ComeHome(precopy, Math.Clamp(rounds, 0, ComeHome.MaxRounds))).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            home.Counters.Count(MigrationDirection.Home, MigrationOutcome.Failed);
            throw new MigrationException($"node {process.Where}: {e.Message}", e);
        }
        return await homecoming.Task.WaitAsync(Limit).ConfigureAwait(false);
    }

    /// <summary>The process rebuilt at home runs; one whose threads cannot be made is dead, and its parent sees it killed.</summary>
    private void LetRun(int pid)
    {
        try
        {
            home.Deputies.LetRun(pid);
        }
        catch (Checkpoint.Restore.RestoreException e)
        {
            HomeLog.NotHome(home.Logger, pid, e.Message);
        }
    }

    /// <summary>A pre-copy round of the trip home (after precopy): into the deputy, then "round taken" or "stay".</summary>
    public async Task TakeRoundAsync(ManagedProcess process, Conversation talk, Action<Frame> stdio)
    {
        var relay = home.Relays.Find(process.Pid);
        var wire = new LinkImageReadStream(talk.Link, stdio);
        try
        {
            await Blocking.Run(() =>
            {
                home.Deputies.TakeRound(process.Pid, wire);
                return 0;
            }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not LinkException)
        {
            await DrainAsync(wire).ConfigureAwait(false);
            await StayAsync(process, talk, relay, e).ConfigureAwait(false);
            return;
        }
        if (relay?.Trip is { } trip)
        {
            trip.Rounds++;
            trip.RoundBytes += wire.BytesReceived;
        }
        await talk.SendAsync(new RoundTaken()).ConfigureAwait(false);
    }

    /// <summary>
    /// The image arrives (after image-follows): rebuild it into the deputy, hear how much input the copy read, then
    /// tell its node. True when it is home. <paramref name="ledger"/> holds the input relayed to the copy that may be
    /// unread, <paramref name="stdin"/> the deputy's stdin it came from.
    /// </summary>
    public async Task<bool> ReceiveHomeAsync(ManagedProcess process, Conversation talk, Action<Frame> stdio, InputLedger? ledger, SafeFileHandle? stdin)
    {
        var pid = process.Pid;
        var from = process.Where;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var relay = home.Relays.Find(pid);
        var wire = new LinkImageReadStream(talk.Link, stdio);
        Exception? failure = null;
        try
        {
            await Blocking.Run(() => home.Deputies.RestoreInto(pid, wire)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not LinkException)
        {
            failure = e;
            await DrainAsync(wire).ConfigureAwait(false);
        }
        InputTaken? input = null;
        try
        {
            input = await InputTakenAsync(talk, stdio).ConfigureAwait(false);
        }
        catch (LinkException) when (failure is null)
        {
            // The image is here whole and the copy there stays frozen until its node kills it: the process runs
            // here. How much input it read is unknown, so none is put back (docs/reliability.md).
        }
        if (failure is not null)
        {
            await StayAsync(process, talk, relay, failure).ConfigureAwait(false);
            await ResendAsync(talk, ledger, input!).ConfigureAwait(false);
            return false;
        }
        if (input is not null) PutBackInput(pid, ledger, input, stdin);
        try
        {
            await talk.SendAsync(new WelcomeHome()).ConfigureAwait(false);
        }
        catch (LinkException)
        {
            // Home has it whole: it runs here. Its copy there stays frozen and is killed when its node finds the
            // link gone, so it never runs twice (docs/reliability.md).
        }
        finally
        {
            // Its copy ends on hearing the welcome, which gives back the ids its threads take here.
            LetRun(pid);
        }
        home.Registry.Update(process, p =>
        {
            p.State = ProcessState.Home;
            p.Where = home.Self;
            p.Migrations++;
            p.RemotePid = 0;
        });
        var bytes = wire.BytesReceived;
        HomeLog.CameHome(home.Logger, pid, from, bytes >> 20, clock.Elapsed.TotalMilliseconds);
        home.Counters.Moved(MigrationDirection.Home, clock.Elapsed);
        relay?.Homecoming?.TrySetResult(new MigrationResult(pid, from, home.Self, bytes, (long)clock.Elapsed.TotalMilliseconds, pid)
        {
            PrecopyRounds = relay.Trip?.Rounds ?? 0,
            PrecopyBytes = relay.Trip?.RoundBytes ?? 0,
            TotalMs = (long)(relay.Trip?.Clock.Elapsed ?? clock.Elapsed).TotalMilliseconds,
        });
        relay?.ReleaseHeld(cameHome: true);
        return true;
    }

    /// <summary>How long home waits, after its welcome, for the copy's node to send signals the frozen copy got after
    /// its image and close the link: it closes it at once once the copy is gone.</summary>
    private static readonly TimeSpan AfterImagePatience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After the welcome home: signals that reached the frozen copy after its image was read (the copy's node sends
    /// them once it killed the copy, then closes the link) are sent to the process here, wherever it runs by then (a
    /// deputy forwards them to its copy); then the link is closed. Nothing more is read from the link.
    /// </summary>
    public static async Task SignalsAfterImageAsync(HomeSide home, int pid, Conversation talk)
    {
        using var patience = new CancellationTokenSource(AfterImagePatience);
        try
        {
            while (await talk.Link.ReceiveAsync(patience.Token).ConfigureAwait(false) is { } frame)
            {
                if (frame.Type != FrameType.Control || talk.Read(frame) is not SignalsAfterImage late) continue;
                HomeLog.SignalsAfterImage(home.Logger, pid, talk.Link.PeerNode, string.Join(' ', late.Signals));
                foreach (var signal in late.Signals)
                {
                    try
                    {
                        Signals.Kill(pid, signal);
                    }
                    catch (SyscallException e)
                    {
                        // It ended here meanwhile: the signal would have found no process at its node either.
                        HomeLog.SignalsAfterImageLost(home.Logger, pid, e.Message);
                        break;
                    }
                }
            }
        }
        catch (Exception e) when (e is LinkException or OperationCanceledException)
        {
            // The copy's node went away, or never closed the link: nothing more comes from it.
        }
        finally
        {
            await talk.Link.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>What is left of an image home could not use, so that the next frame is the one after it.</summary>
    private static Task DrainAsync(LinkImageReadStream wire) => Blocking.Run(() =>
    {
        wire.CopyTo(Stream.Null);
        return 0;
    });

    /// <summary>The node's count of the input it took, after the image (its output may still come meanwhile).</summary>
    private static async Task<InputTaken> InputTakenAsync(Conversation talk, Action<Frame> stdio)
    {
        while (await talk.Link.ReceiveAsync(CancellationToken.None).ConfigureAwait(false) is { } frame)
        {
            if (frame.Type != FrameType.Control)
            {
                stdio(frame);
                continue;
            }
            if (talk.Read(frame) is InputTaken taken) return taken;
        }
        throw new LinkException($"node {talk.Link.PeerNode} closed the link before saying how much input its process read");
    }

    /// <summary>
    /// Input relayed that the copy did not read (in its pipe when it froze, or still on the way) comes first on the
    /// process's stdin here: a new pipe, fed that input and then the rest of its old stdin. All of it read: its old
    /// stdin stays, as nothing is owed.
    /// </summary>
    private void PutBackInput(int pid, InputLedger? ledger, InputTaken input, SafeFileHandle? stdin)
    {
        if (ledger is null) return;
        try
        {
            var unread = ledger.From(input.Written - input.Unread);
            if (unread.Length == 0) return;
            var pipe = home.Deputies.ReplaceInput(pid);
            HomeLog.InputPutBack(home.Logger, pid, unread.Length);
            _ = InputFeed.Start(unread, stdin is null ? null : Descriptors.Duplicate(stdin), pipe, home.Logger, pid);
        }
        catch (Exception e) when (e is InvalidOperationException or SyscallException or Checkpoint.Tracing.InjectionException)
        {
            HomeLog.InputNotPutBack(home.Logger, pid, e.Message);
        }
    }

    /// <summary>It stays: input its node dropped after counting goes to it again, in order, before the relay goes on.</summary>
    private static async Task ResendAsync(Conversation talk, InputLedger? ledger, InputTaken input)
    {
        if (ledger is null) return;
        var again = ledger.From(input.Written);
        for (var at = 0; at < again.Length; at += 65536)
        {
            var chunk = again.AsMemory(at, Math.Min(65536, again.Length - at));
            var frame = new byte[chunk.Length + 1];
            chunk.CopyTo(frame.AsMemory(1));
            await talk.Link.SendAsync(FrameType.Stdio, frame).ConfigureAwait(false);
        }
        if (ledger.Ended && !input.Ended) await talk.Link.SendAsync(FrameType.StdioEnd, new byte[] { 0 }).ConfigureAwait(false);
    }

    /// <summary>The trip is off (a round or the image could not be rebuilt here): the copy runs on where it is.</summary>
    private async Task StayAsync(ManagedProcess process, Conversation talk, RelayState? relay, Exception why)
    {
        var pid = process.Pid;
        HomeLog.NotHome(home.Logger, pid, why.Message);
        home.Counters.Count(MigrationDirection.Home, MigrationOutcome.Failed);
        await talk.SendAsync(new Stay(why.Message)).ConfigureAwait(false);
        home.Deputies.AbandonRounds(pid);
        home.Registry.Update(process, p => p.State = ProcessState.Remote);
        if (relay is null) return;
        home.Relays.FailHomecoming(relay, new MigrationException($"process {pid} could not come home and runs on at node {process.Where}: {why.Message}", why));
        relay.ReleaseHeld(cameHome: false);
    }
}
