using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// Home wants the process back: with pre-copy, rounds of its memory go home while it runs on here (home rebuilds
/// them into its deputy); then it is frozen, its image (only what changed since the last round) streams home, and
/// home hears how much of its input it read. The verdict: "home", the copy here dies (it runs at home now); "stay"
/// (to a round or to the image), a failure, or a lost link: it runs on here as before.
/// </summary>
internal sealed class SendHome(IMigrationEngine engine, Conversation talk, int guestPid, GuestInput input, ILogger logger)
{
    /// <summary>Takes the results of forwarded calls, which the copy goes on making while it is pre-copied home.</summary>
    public Forwarding.GuestForwarder? Forwarded { get; init; }

    /// <summary>Holds the rounds and the image to the bandwidth limit; null: none.</summary>
    public BandwidthPacer? Pacer { get; init; }

    /// <summary>How long the trip home waits for forwarded calls under way (a read at home may wait for good).</summary>
    private static readonly TimeSpan ForwardedCallPatience = TimeSpan.FromSeconds(2);

    /// <summary>True when the process went home; <paramref name="leaving"/> runs just before its copy here is killed.</summary>
    public async Task<bool> RunAsync(ComeHome request, Action leaving, CancellationToken cancel)
    {
        IPrecopyRounds? session = null;
        if (request.Precopy)
        {
            // Calls are not held over the rounds: one held there is restarted wherever the process goes next, with
            // the arguments it had here (a pthread_kill's tgid is this node's PID, unknown at home: ESRCH).
            var (rounds, stays) = await PrecopyAsync(request.Rounds, cancel).ConfigureAwait(false);
            if (stays) return false;
            session = rounds;
        }
        return await FreezeAndSendAsync(session, leaving, cancel).ConfigureAwait(false);
    }

    /// <summary>The rounds; true in Stays when the trip is off (home refused a round, or the link failed).</summary>
    private async Task<(IPrecopyRounds? Session, bool Stays)> PrecopyAsync(int maxRounds, CancellationToken cancel)
    {
        try
        {
            var (session, _, _, _) = await PrecopyDriver.RunAsync(engine, guestPid, talk, maxRounds, AnswerAsync, cancel, pacer: Pacer).ConfigureAwait(false);
            return (session, false);
        }
        catch (MigrationException e)
        {
            GuestLog.Stays(logger, guestPid, e.Message);
            return (null, true);
        }
        catch (LinkException e)
        {
            GuestLog.SendHomeFailed(logger, guestPid, e.Message);
            return (null, true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Its round could not be written (the copy exec'd or ended): home reads a truncated round and answers
            // "stay", which must be heard before anything else is said. Before any round, it goes home frozen instead.
            Failed(e);
            if (talk.Phase != MigrationPhase.ReturnPrecopying) return (null, false);
            await AnswerAsync().ConfigureAwait(false);
            return (null, true);
        }
    }

    /// <summary>A copy that exited under its trip home did not fail to go: its exit goes home as any guest's does
    /// (the relay reports it once home's verdict, "stay", is heard). One that exec'd runs on here, its trip void.</summary>
    private void Failed(Exception e)
    {
        if (Checkpoint.Dump.ProcessEndedException.Explains(e, guestPid)) GuestLog.ExitedOnWayHome(logger, guestPid);
        else GuestLog.SendHomeFailed(logger, guestPid, e.Message);
    }

    /// <summary>Home's answer to a round: null when taken, else why it stays. Input relayed meanwhile goes to the
    /// copy, which runs on.</summary>
    private async Task<string?> AnswerAsync()
    {
        while (await talk.Link.ReceiveAsync(CancellationToken.None).ConfigureAwait(false) is { } frame)
        {
            if (input.Take(frame) || Forwarded?.Take(frame) == true) continue;
            if (frame.Type != FrameType.Control)
                throw new LinkException($"node {talk.Link.PeerNode} sent an unexpected {frame.Type} frame during a pre-copy home");
            var answer = talk.Read(frame);
            // Home's answer to a checkpoint sent before it asked for the process: not about this round.
            if (answer is CheckpointStored) continue;
            return answer is Stay stay ? $"home took none of it: {stay.Reason}" : null;
        }
        throw new LinkException($"node {talk.Link.PeerNode} closed the link during a pre-copy home");
    }

    /// <summary>The image (over the rounds of <paramref name="session"/>, which ends with it), the input count, the verdict.</summary>
    private async Task<bool> FreezeAndSendAsync(IPrecopyRounds? session, Action leaving, CancellationToken cancel)
    {
        var frozen = false;
        try
        {
            if (Forwarded is not null && !await QuiesceAsync(Forwarded).ConfigureAwait(false))
                logger.LogWarning("Process {Pid} goes home while a forwarded call still waits at home ({Calls})", guestPid, Forwarded.Waiting);
            await talk.SendAsync(new ImageFollows(), cancel).ConfigureAwait(false);
            await LinkImageWriteStream.SendAsync(talk.Link, image =>
            {
                engine.CheckpointFrozen(guestPid, image, session, Forwarded);
                frozen = true;
            }, pacer: Pacer).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            return Abandoned(e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The checkpoint failed and let the process run on. The image was ended all the same, so home reads a
            // truncated image, refuses it and answers "stay", which is read below like any verdict.
            Failed(e);
        }
        finally
        {
            // The frozen process changes nothing more: the write tracking has done its work.
            session?.Dispose();
        }
        // Counted with the copy frozen and nothing written from here on: input queued or still coming is dropped, and
        // home has it.
        input.Hold();
        try
        {
            var unread = frozen ? Math.Min(input.Unread(guestPid) ?? 0, input.Written) : 0;
            await talk.SendAsync(new InputTaken(input.Written, unread, input.Ended), cancel).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            return Abandoned(e);
        }
        MigrationMessage verdict;
        while (true)
        {
            var frame = await talk.Link.ReceiveAsync(cancel).ConfigureAwait(false);
            // The link closed without a verdict: home may have it, so the copy stays frozen until the relay kills it.
            if (frame is null) return false;
            // Input home read before it froze the process: home sends it again if the process stays, or puts it in
            // front of its stdin at home.
            if (frame.Value.Type != FrameType.Control)
            {
                Forwarded?.Take(frame.Value);
                continue;
            }
            verdict = talk.Read(frame.Value);
            if (verdict is not CheckpointStored) break;
        }
        if (verdict is WelcomeHome && frozen)
        {
            engine.AfterImage(guestPid);
            leaving();
            // A signal that reached the frozen copy after its image was read is not in the image: read from its queues
            // as it is ended and sent home, which sends it to the process there, instead of dying with the copy.
            var late = engine.EndFrozen(guestPid);
            if (late.Count > 0) await SendLateSignalsAsync(late).ConfigureAwait(false);
            return true;
        }
        GuestLog.Stays(logger, guestPid, (verdict as Stay)?.Reason ?? "its image did not reach home whole");
        if (frozen) engine.Thaw(guestPid);
        Forwarded?.Resume();
        // Home sends again, after its verdict, what was dropped since the count.
        input.Resume();
        return false;
    }

    /// <summary>Signals the copy got after its image, for home (which sends them to the process there).</summary>
    private async Task SendLateSignalsAsync(IReadOnlyList<int> late)
    {
        GuestLog.SignalsAfterImage(logger, guestPid, string.Join(' ', late));
        try
        {
            await talk.SendAsync(new SignalsAfterImage([.. late.Take(SignalsAfterImage.Max)])).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            // Home closed the link after its welcome (an omd that does not read them) or went away: they are lost.
            GuestLog.SignalsAfterImageLost(logger, guestPid, e.Message);
        }
    }

    /// <summary>
    /// The copy's forwarded calls held and those under way answered, with home's frames read meanwhile: nothing else
    /// reads the link between the last round and the image, and a call whose result waited there unread was still
    /// under way at the freeze, carried out at home and then made again there by the process (a line sent twice).
    /// </summary>
    private async Task<bool> QuiesceAsync(Forwarding.GuestForwarder forwarded)
    {
        using var quiet = new CancellationTokenSource();
        var reading = ReadDuringQuiesceAsync(forwarded, quiet.Token);
        try
        {
            return await forwarded.QuiesceAsync(ForwardedCallPatience).ConfigureAwait(false);
        }
        finally
        {
            await quiet.CancelAsync().ConfigureAwait(false);
            await reading.ConfigureAwait(false);
        }
    }

    private async Task ReadDuringQuiesceAsync(Forwarding.GuestForwarder forwarded, CancellationToken quiet)
    {
        try
        {
            while (await talk.Link.ReceiveAsync(quiet).ConfigureAwait(false) is { } frame)
            {
                if (input.Take(frame) || forwarded.Take(frame)) continue;
                // Home's answer to a checkpoint sent before it asked for the process; nothing else comes before the image.
                if (frame.Type != FrameType.Control || talk.Read(frame) is not CheckpointStored)
                    throw new LinkException($"node {talk.Link.PeerNode} sent an unexpected {frame.Type} frame before the image home");
            }
        }
        catch (OperationCanceledException) when (quiet.IsCancellationRequested)
        {
            // Quiet: the image follows, and the verdict's loop reads on.
        }
    }

    /// <summary>
    /// The link is gone: the relay ends with it, and so does the guest, still frozen if it was. Thawed, it would run
    /// for a moment beside the process home may have rebuilt from what it got (docs/reliability.md).
    /// </summary>
    private bool Abandoned(LinkException e)
    {
        GuestLog.SendHomeFailed(logger, guestPid, e.Message);
        talk.ReturnAbandoned();
        return false;
    }
}
