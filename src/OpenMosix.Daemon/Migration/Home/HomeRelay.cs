using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Daemon.Migration.Checkpoints;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// Home stands in for a process that runs elsewhere: the deputy's descriptors relay the copy's stdio, the copy's
/// terminal modes reach the real terminal, requests to move it on and its trip home are handed on, and the deputy
/// ends with the copy's exit status. The copy's periodic checkpoints are kept (<see cref="CheckpointKeeper"/>). If the
/// link breaks first, the process restarts here from its last checkpoint; without one it is lost and the deputy ends
/// as if SIGKILLed.
/// </summary>
internal sealed partial class HomeRelay(HomeSide home, ManagedProcess process, Conversation talk, ReturnTrip trip, MoveOnRequests moveOn)
{
    private int Pid => process.Pid;

    /// <summary>This relay's state in the relay table: the way to what the copy forked on its node.</summary>
    public required RelayState Route { get; init; }


    private async Task RunAsync(Dictionary<int, SafeFileHandle> descriptors, Forwarding.HomeForwarder? forwarder, DeliveredCounts? counts, long inputBase,
        InputLedger? carried, PostcopyHold? postcopy)
    {
        descriptors.Remove(0, out var stdin);
        // What the copy may not have read of a pipe is kept until it has; a terminal's input is typed, not owed, but counted
        // with its tail kept, so that keys a job leaves unread go back to the terminal (TypedInput).
        var ledger = stdin is not null && Terminal.ReadModes(stdin) is null ? carried ?? new InputLedger(inputBase) : null;
        var typed = stdin is not null && ledger is null ? new TypedInput() : null;
        var inputStop = new CancellationTokenSource();
        // Post-copy: no input leaves home before the copy holds every page: should it die for want of one, the original
        // runs on here and reads that input itself.
        var input = postcopy is not null ? Task.CompletedTask
            : ledger == carried && ledger is not null
            ? InputReplay.ThenPump(ledger, inputBase, stdin!, Pid, talk.Link, home.Logger, inputStop.Token)
            : InputPump.Start(stdin, Pid, talk.Link, ledger, inputStop.Token, typed);
        // Post-copy: what the copy writes and asks of home is held back until it holds every page, then delivered in
        // order; should it die first, the original runs on here from where it was frozen and does it all again itself.
        var heldBack = postcopy is not null ? new List<Frame>() : null;
        var outputs = descriptors.ToDictionary(d => d.Key, d => new FileStream(d.Value, FileAccess.Write, 0, isAsync: false));
        var checkpoints = home.Checkpoints is { } store ? new CheckpointKeeper(store, Pid, talk, home.Logger) { Busy = home.BusyForCheckpoints } : null;
        // Taken over: what the last omd delivered counts for this checkpoint keeper too (the copy's counts go on).
        if (inputBase > 0 || counts is not null)
            foreach (var fd in descriptors.Keys)
                checkpoints?.DeliveredBefore(fd, counts?.Of(fd) ?? 0);
        void Write(Frame frame)
        {
            if (heldBack is not null)
            {
                heldBack.Add(frame);
                return;
            }
            if (forwarder?.Take(frame) == true) return;
            if (frame.Type != FrameType.Stdio) return;
            Output(frame.Payload);
            // Delivered, and held by nothing else: a full frame (a copy writing fast fills its pipe) takes the next one.
            FramePool.Return(frame.Payload);
        }
        // A Stdio frame's payload: the descriptor's number, then the bytes.
        void Output(ReadOnlySpan<byte> payload)
        {
            if (payload.Length < 2 || !outputs.TryGetValue(payload[0], out var output)) return;
            // Counted as delivered even when the reader is gone: the process wrote it, and will not need it again.
            checkpoints?.Delivered(payload[0], payload.Length - 1);
            try
            {
                output.Write(payload[1..]);
            }
            catch (IOException)
            {
                // The reader at home went away (a closed pipe): the copy would have got EPIPE; it runs on.
            }
            counts?.Add(payload[0], payload.Length - 1);
        }
        // Output read off the link while this loop waits is written on the link's reading thread (no hop to this loop's
        // thread and back per frame), from the link's own buffer; anything else, or output held back, comes to the
        // loop in order.
        bool Inline(FrameType type, ReadOnlySpan<byte> payload)
        {
            if (type != FrameType.Stdio || heldBack is not null) return false;
            Output(payload);
            return true;
        }
        ExitStatus? status = null;
        string? lost = null;
        var cameHome = false;
        var restarted = false;
        var resumedThere = false;
        var outlived = false;
        // Post-copy not over when the link ended: the original, whole, runs on here (nothing is lost, nothing restarted).
        var ranOnHere = false;
        try
        {
            while (status is null && !cameHome && await talk.Link.ReceiveAsync(Inline, CancellationToken.None).ConfigureAwait(false) is { } frame)
            {
                if (frame.Type != FrameType.Control)
                {
                    Write(frame);
                    continue;
                }
                var message = talk.Read(frame);
                if (message is CheckpointFollows follows && checkpoints is not null)
                {
                    // Control messages that came between the checkpoint's frames are handled after it, in order.
                    foreach (var deferred in await checkpoints.ReceiveAsync(follows, Write).ConfigureAwait(false))
                        await HandleAsync(talk.Read(deferred)).ConfigureAwait(false);
                    continue;
                }
                await HandleAsync(message).ConfigureAwait(false);
            }
            lost = status is null && !cameHome ? "the link closed without an exit status" : null;
            if (outlived) await OutliveAsync().ConfigureAwait(false);
        }
        catch (LinkException e) when (!outlived)
        {
            lost = e.Message;
        }
        finally
        {
            await inputStop.CancelAsync().ConfigureAwait(false);
            await input.ConfigureAwait(false);
            inputStop.Dispose();
            if (lost is not null && postcopy is { Released: false })
            {
                // Runs on here, or (killed here meanwhile) is gone as its parent saw: no deputy to end either way.
                ranOnHere = true;
                // What the copy wrote meanwhile is dropped: the original writes it again.
                heldBack = null;
                // Never two copies: a link that went silent may have carried pages-held, so the copy's node may run it
                // on until its own end times out too (a copy still fetching it kills after half that: PagesReport).
                if (talk.Link.WentSilent) await CheckpointRestart.WaitForCopyGivenUpAsync(talk.Link).ConfigureAwait(false);
                await postcopy.ResumeHereAsync(lost).ConfigureAwait(false);
                lost = null;
            }
            if (lost is not null && counts is not null)
            {
                var (why, ended) = await ResumeAfterItsOmdDiedAsync(counts, lost, ledger).ConfigureAwait(false);
                resumedThere = why == Resumed;
                if (resumedThere) forwarder?.Dispose();
                else if (ended is not null) (status, lost) = (ended, null);
                else if (why is not null) lost = $"{lost}; {why}";
            }
            if (lost is not null && !resumedThere && checkpoints is not null)
                restarted = await new CheckpointRestart(home).TryAsync(process, checkpoints, talk.Link, new CheckpointRestart.Stdio(stdin, ledger, outputs), lost).ConfigureAwait(false);
            // A relay resumed on a new link keeps the process's checkpoint, its entry away and its counts.
            if (checkpoints is not null && !resumedThere) await checkpoints.ForgetAsync().ConfigureAwait(false);
            foreach (var output in outputs.Values) await output.DisposeAsync().ConfigureAwait(false);
            stdin?.Dispose();
            if (!resumedThere)
            {
                forwarder?.Dispose();
                // Once outlived, the PID is no longer this process's: its entries went when its deputy ended.
                if (!outlived) home.Away?.Remove(Pid);
                counts?.Dispose();
            }
            // What the copy forked is not listed past its link: a new link (resumed) reports it again.
            home.Registry.ForkedAway.Clear(Route);
            Route.EndForked(lost ?? "the link to its node ended");
            var relay = resumedThere || outlived ? null : home.Relays.Remove(Pid);
            if (!cameHome) relay?.Homecoming?.TrySetException(new MigrationException($"process {Pid} did not come home: {(restarted ? $"it was restarted here ({lost})" : lost ?? "it ended first")}"));
            // Home: the copy's node may still send the signals its frozen copy got after its image was read, and closes
            // the link once the copy is gone; read until then on the side, the process running here meanwhile.
            if (cameHome) _ = ReturnTrip.SignalsAfterImageAsync(home, Pid, talk);
            else await talk.Link.DisposeAsync().ConfigureAwait(false);
        }
        if (resumedThere || outlived || ranOnHere) return;
        if (!cameHome && !restarted) End(status, lost);
        if (restarted) await new CheckpointRestart(home).MoveOnAsync(process, talk.Link.PeerNode).ConfigureAwait(false);

        // The copy ended and what it forked there runs on (remote fork): the deputy ends now, as the process did, for its
        // parent here; the link stays for those processes (their output to the same descriptors, their reports, home's
        // signals and moves for them) until the copy's node closes it, after the last of them ended. Everything kept
        // under the deputy's PID goes now: that PID may name another process before the link ends.
        async Task OutliveAsync()
        {
            await inputStop.CancelAsync().ConfigureAwait(false);
            await input.ConfigureAwait(false);
            if (checkpoints is not null) await checkpoints.ForgetAsync().ConfigureAwait(false);
            checkpoints = null;
            counts?.Dispose();
            counts = null;
            home.Away?.Remove(Pid);
            home.Relays.Remove(Pid)?.Homecoming?.TrySetException(new MigrationException($"process {Pid} did not come home: it ended first"));
            End(status, null);
            HomeLog.Outliving(home.Logger, Pid, talk.Link.PeerNode);
            try
            {
                while (await talk.Link.ReceiveAsync(CancellationToken.None).ConfigureAwait(false) is { } frame)
                {
                    if (frame.Type != FrameType.Control)
                    {
                        Write(frame);
                        continue;
                    }
                    switch (talk.Read(frame))
                    {
                        case ForkedThere forked:
                            home.Registry.ForkedAway.Set(Route, talk.Link.PeerNode, [.. forked.Children.Select(ForkedAwayOf)]);
                            break;
                        case ForkedMoved moved:
                            Route.Answered(moved);
                            break;
                    }
                }
            }
            catch (LinkException e)
            {
                // Its node went away, or broke the protocol: what the copy forked there is out of reach, and is that node's.
                HomeLog.OutlivingEnded(home.Logger, Pid, talk.Link.PeerNode, e.Message);
            }
        }

        // Every page is with the copy (or it ended): the original becomes the deputy, what was held back is delivered,
        // and its input goes to the copy from now on.
        async Task ReleasedAsync(PagesHeld? held)
        {
            await ReleaseAsync(postcopy!, held).ConfigureAwait(false);
            var frames = heldBack;
            heldBack = null;
            foreach (var frame in frames ?? []) Write(frame);
            if (held is not null) input = InputPump.Start(stdin, Pid, talk.Link, ledger, inputStop.Token, typed);
        }

        async Task HandleAsync(MigrationMessage message)
        {
            switch (message)
            {
                case Exited exited:
                    // Ended before it held every page: it needs no more, and its deputy ends as it did.
                    if (postcopy is not null) await ReleasedAsync(null).ConfigureAwait(false);
                    status = new ExitStatus(exited.Code, exited.Signal);
                    if (typed is null || exited.InputReceived < 0) break;
                    // Before its deputy ends: its parent (the shell) reads the terminal only after that.
                    await inputStop.CancelAsync().ConfigureAwait(false);
                    await input.ConfigureAwait(false);
                    TypedInput.PutBack(stdin!, typed, exited, Pid, home.Logger);
                    break;
                case Outlived ended:
                    if (postcopy is not null) await ReleasedAsync(null).ConfigureAwait(false);
                    status = new ExitStatus(ended.Code, ended.Signal);
                    outlived = true;
                    break;
                case ForkedMoved moved:
                    Route.Answered(moved);
                    break;
                case PagesHeld held:
                    if (postcopy is not null) await ReleasedAsync(held).ConfigureAwait(false);
                    break;
                case TerminalModesChanged changed:
                    ApplyTerminalModes(changed.Modes);
                    break;
                case CopyJobState job when postcopy is not { Released: false } && job.Stopped && DiscardedHere(job.Signal):
                    // A terminal stop another process of its node sent it, where its group is orphaned here: this kernel
                    // would have discarded it for the unmoved process, which ran on. Nobody here could continue the copy.
                    HomeLog.CopyStopDiscarded(home.Logger, Pid, job.Signal);
                    Route.Forward(new ArrivedSignal(Signals.SIGCONT, FromProcess: true), null);
                    break;
                case CopyJobState job when postcopy is not { Released: false }:
                    // Stopped or continued on its node: its deputy follows, for its parent's wait and its shell.
                    HomeLog.CopyJobState(home.Logger, Pid, job.Stopped ? $"stopped by signal {job.Signal}" : "continued");
                    home.Deputies.FollowCopy(Pid, job.Stopped ? job.Signal : 0);
                    break;
                case Usage usage:
                    home.Registry.Update(process, p =>
                    {
                        p.StayCpuSeconds = usage.CpuSeconds;
                        p.RemoteResidentBytes = usage.ResidentBytes;
                        p.RemoteCpu.Add(usage.CpuSeconds, MonotonicClock.Now());
                    });
                    ledger?.Acknowledge(checkpoints?.ForgettableInput(usage.InputRead) ?? usage.InputRead);
                    break;
                case InputWritten written:
                    ledger?.Delivered(written.Written);
                    break;
                case ForkedThere forked:
                    home.Registry.ForkedAway.Set(Route, talk.Link.PeerNode, [.. forked.Children.Select(ForkedAwayOf)]);
                    break;
                case PrecopyRound:
                    await trip.TakeRoundAsync(process, talk, Write).ConfigureAwait(false);
                    break;
                case MoveRequest request:
                    // On a task of its own: bringing it home needs this loop to receive the image.
                    _ = moveOn.HandleAsync(process, talk, request);
                    break;
                case ImageFollows:
                    // The input must stop before the process runs here again, or this relay would steal its input.
                    await inputStop.CancelAsync().ConfigureAwait(false);
                    await input.ConfigureAwait(false);
                    cameHome = await trip.ReceiveHomeAsync(process, talk, Write, ledger, stdin).ConfigureAwait(false);
                    if (cameHome)
                    {
                        home.Registry.Update(process, p => p.EndStay());
                        break;
                    }
                    inputStop.Dispose();
                    inputStop = new CancellationTokenSource();
                    input = InputPump.Start(stdin, Pid, talk.Link, ledger, inputStop.Token, typed);
                    break;
                case CheckpointCounts counts:
                    checkpoints?.Counted(counts);
                    break;
                case CheckpointAsk ask:
                    await talk.SendAsync(new CheckpointGo(ask.Sequence, checkpoints is null ? "home keeps no checkpoints"
                        : postcopy is { Released: false } ? "its memory is still coming (post-copy)" : home.BusyForCheckpoints())).ConfigureAwait(false);
                    break;
            }
        }
    }

    /// <summary>The post-copied original becomes the deputy; killed here meanwhile, the link ends (and the copy with it).</summary>
    private async Task ReleaseAsync(PostcopyHold hold, PagesHeld? held)
    {
        try
        {
            await hold.ReleaseAsync(held).ConfigureAwait(false);
        }
        catch (MigrationException e)
        {
            talk.Link.Abandon(e.Message);
        }
    }

    /// <summary>Whether home's kernel discards <paramref name="signal"/> for the process: a terminal stop signal (SIGTSTP,
    /// SIGTTIN, SIGTTOU) while the deputy's group is orphaned here (no job control: setsid, nohup-like, its shell
    /// gone).</summary>
    private bool DiscardedHere(int signal) =>
        Array.IndexOf(OpenMosix.Linux.Seccomp.ForwardingFilter.TerminalStops, signal) >= 0 && OpenMosix.Linux.Proc.OrphanedGroups.OfProcess(Pid);
}
