using System.Diagnostics;
using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Daemon.Migration.Postcopy;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// One move of a process at home to another node, up to the point where its copy runs there: offer, pre-copy
/// rounds, the final image (frozen), commit. Until the target reports the copy running, the original is only
/// frozen, and any failure lets it run on where it was. Then the original becomes the deputy.
/// </summary>
internal sealed class OutgoingMove(HomeSide home, ManagedProcess process, ushort target, Conversation talk,
    IProgress<MigrationProgress>? progress = null)
{
    private readonly MoveProgress _progress = new(progress);
    /// <summary>One limit for the whole move: its pre-copy rounds and its final image.</summary>
    private readonly BandwidthPacer? _pacer = BandwidthPacer.ForLimit(home.BandwidthLimit);

    private int Pid => process.Pid;

    /// <summary>With `om migrate --tree`: where this member waits for the others before its freeze and its commit.</summary>
    public TreeGate? Gate { get; init; }

    /// <summary>Where the move's phases are timed for its log line (<see cref="HomeLog.MovePhases"/>).</summary>
    public MoveClock Clock { get; init; } = new();

    /// <summary>The result for the caller, and what the target relays (for the relay to open at home).</summary>
    public async Task<(MigrationResult Result, Restored Restored)> RunAsync(bool precopy, int precopyRounds, CancellationToken cancel)
    {
        var (result, restored, _) = await RunAsync(precopy, precopyRounds, PostcopyMode.Never, 0, cancel).ConfigureAwait(false);
        return (result, restored);
    }

    /// <summary>As above; with post-copy (<paramref name="postcopy"/>, <see cref="PostcopyChoice"/>) the copy runs
    /// before its memory is there, and the original stays frozen and whole, serving it, until the returned hold is
    /// released (<see cref="PostcopyHold"/>).</summary>
    public async Task<(MigrationResult Result, Restored Restored, PostcopyHold? Hold)> RunAsync(bool precopy, int precopyRounds, PostcopyMode postcopy,
        double linkBytesPerSecond, CancellationToken cancel)
    {
        home.Registry.Update(process, p => p.Command = ProcessRegistry.CommandOf(Pid));
        MigrationMessage answer;
        try
        {
            await talk.SendAsync(OfferBuilder.For(process, home.Self, home.HomePaths, home.SocketsAtHome), cancel).ConfigureAwait(false);
            answer = await talk.ReceiveAsync(HomeSide.AnswerTimeout).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            // Nothing was done to the process yet: a move that did not happen, as a refusal is (the caller gives back a
            // process adopted for it).
            throw new MigrationException($"node {target}: {e.Message}", e);
        }
        if (answer is Refuse refuse)
            throw new MigrationException($"node {target} refused process {Pid}: {refuse.Reason}") { Refused = true };
        // Files the target lacks stay here, in the deputy, and are forwarded as a deleted file is.
        home.Engine.ForwardAlso(Pid, (answer as Accept)?.Forward ?? []);
        Clock.Mark("offer");

        home.Registry.Update(process, p => p.State = ProcessState.Migrating);
        var whole = Stopwatch.StartNew();
        (bool, IPrecopyRounds?) choice;
        try
        {
            choice = await ChoosePostcopyAsync(precopy, postcopy, linkBytesPerSecond).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // As a failed pre-copy: the process runs on here, and one that exec'd under the probe is tried again
            // (HomeMigration.Replaced looks for the cause inside).
            home.Registry.Update(process, p => p.State = ProcessState.Home);
            if (e is MigrationException) throw;
            throw new MigrationException($"checkpoint of process {Pid} failed: {e.Message}", e);
        }
        var (usePostcopy, started) = choice;
        // Auto with pre-copy: rounds that do not converge end in post-copy of what they could not catch up with.
        var mayPostcopy = usePostcopy || (postcopy == PostcopyMode.Auto && precopy);
        var sentImage = await SendImageAsync(precopy && !usePostcopy, precopyRounds, cancel, started, usePostcopy, mayPostcopy).ConfigureAwait(false);
        var service = sentImage.Service;
        var (rounds, precopied, bytes, frozenAt) = (sentImage.Rounds, sentImage.Precopied, sentImage.Bytes, sentImage.FrozenAt);
        var sent = frozenAt.Elapsed;
        _progress.Enter(MigrationProgress.Restoring);
        Restored restored;
        TimeSpan restoredAt;
        try
        {
            (restored, restoredAt) = await CommitAsync(frozenAt, cancel).ConfigureAwait(false);
        }
        catch
        {
            // The original was thawed: it must not be read any more for a copy that will not run.
            if (service is not null) await service.Stop("the move was called off").ConfigureAwait(false);
            throw;
        }
        var frozen = frozenAt.Elapsed;
        Clock.Mark("running");
        // Post-copy: the original stays frozen and whole until the copy holds every page (the relay releases it).
        var hold = service is null ? null : new PostcopyHold(home, process, target, service);
        if (hold is null)
        {
            home.Engine.AfterImage(Pid);
            BecomeDeputy();
            Clock.Mark("deputy");
        }
        HomeLog.FrozenPhases(home.Logger, Pid, frozen.TotalMilliseconds, sent.TotalMilliseconds, (restoredAt - sent).TotalMilliseconds,
            (frozen - restoredAt).TotalMilliseconds, (frozenAt.Elapsed - frozen).TotalMilliseconds);
        return (new MigrationResult(Pid, home.Self, target, bytes, (long)frozen.TotalMilliseconds, restored.RemotePid)
        {
            PrecopyRounds = rounds,
            PrecopyBytes = precopied,
            TotalMs = (long)whole.Elapsed.TotalMilliseconds,
            Postcopy = hold is not null,
        }, restored, hold);
    }

    /// <summary>
    /// Post-copy or not: always, never, or (auto, with pre-copy on) when the process writes too fast for pre-copy to
    /// converge, measured with the pre-copy's own write tracking over <see cref="PostcopyChoice.Probe"/>; a pre-copy
    /// chosen goes on with that tracking (<paramref name="started"/>). A kernel without write tracking: no probe, no
    /// pre-copy, no post-copy in auto.
    /// </summary>
    private async Task<(bool Postcopy, IPrecopyRounds? Started)> ChoosePostcopyAsync(bool precopy, PostcopyMode mode, double linkBytesPerSecond)
    {
        if (mode == PostcopyMode.Always) return (true, null);
        if (mode == PostcopyMode.Never || !precopy) return (false, null);
        var session = await Blocking.Run(() => home.Engine.StartPrecopy(Pid)).ConfigureAwait(false);
        Clock.Mark("tracking");
        if (session is null) return (false, null);
        try
        {
            var (written, elapsed, quiet) = await ProbeAsync(session).ConfigureAwait(false);
            Clock.Mark("probe");
            if (quiet)
            {
                home.Logger.LogInformation("Process {Pid} slept through the first {Ms:F0} ms of the probe: pre-copy", Pid, elapsed.TotalMilliseconds);
                return (false, session);
            }
            long resident;
            try
            {
                resident = Linux.Proc.ProcFs.ReadResidentBytes(Pid);
            }
            catch (IOException)
            {
                // Gone meanwhile: the pre-copy finds out and says so.
                resident = 0;
            }
            if (!PostcopyChoice.PreferAtOnce(resident, written, elapsed, linkBytesPerSecond)) return (false, session);
            home.Logger.LogInformation("Process {Pid} wrote {MiB:F1} MiB in {Ms:F0} ms ({Resident} MiB resident): post-copy, as pre-copy would not converge at {Link:F0} MB/s",
                Pid, written / 1048576.0, elapsed.TotalMilliseconds, resident >> 20, linkBytesPerSecond / 1e6);
            session.Dispose();
            return (true, null);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Watches the process's writes for <see cref="PostcopyChoice.Probe"/>, or less once it sleeps through a
    /// <see cref="PostcopyChoice.QuietWindow"/> (<see cref="PostcopyChoice.SleptThrough"/>, from the CPU its threads
    /// wanted, read every few ms). Windows follow each other: the brief run of a thread resumed after the tracking's
    /// stop, late on a crowded node, spoils one window, not the probe.
    /// </summary>
    private async Task<(long Written, TimeSpan Elapsed, bool Quiet)> ProbeAsync(IPrecopyRounds session)
    {
        var watched = Stopwatch.StartNew();
        var (windowStart, cpuAtStart) = (TimeSpan.Zero, WantedCpu());
        while (true)
        {
            await Task.Delay(PostcopyChoice.Probe / 20).ConfigureAwait(false);
            var elapsed = watched.Elapsed;
            if (elapsed - windowStart >= PostcopyChoice.QuietWindow || cpuAtStart is null)
            {
                var now = WantedCpu();
                if (cpuAtStart is { } before && now is { } after && PostcopyChoice.SleptThrough(elapsed - windowStart, after - before, 0))
                {
                    var pending = (long)Math.Min(session.PendingBytes(), long.MaxValue);
                    if (PostcopyChoice.SleptThrough(elapsed - windowStart, after - before, pending)) return (pending, elapsed, true);
                }
                // A runnable thread spoils the window: the next begins at the next read that finds none.
                (windowStart, cpuAtStart) = (elapsed, now);
            }
            if (elapsed >= PostcopyChoice.Probe) break;
        }
        return ((long)Math.Min(session.PendingBytes(), long.MaxValue), watched.Elapsed, false);
    }

    /// <summary>CPU time every thread of the process wanted so far; null while one of them is runnable (wanting a CPU
    /// now), or once it is gone (the pre-copy finds out).</summary>
    private TimeSpan? WantedCpu()
    {
        try
        {
            var (sum, runnable) = Linux.Proc.SchedStat.ReadAllThreads(Pid);
            return runnable ? null : sum.Wanting;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>What <see cref="SendImageAsync"/> sent: rounds, their bytes, the final image's, when the freeze began,
    /// and home's page service when the copy is to fetch the rest (post-copy).</summary>
    private sealed record SentImage(int Rounds, long Precopied, long Bytes, Stopwatch FrozenAt, HomePageService? Service);

    /// <summary>Pre-copy rounds if asked for, then the final image, frozen: whole, or (post-copy: chosen before, or by
    /// rounds that did not converge when <paramref name="mayPostcopy"/>) without the memory the copy fetches.</summary>
    private async Task<SentImage> SendImageAsync(bool precopy, int precopyRounds, CancellationToken cancel,
        IPrecopyRounds? started, bool postcopy, bool mayPostcopy)
    {
        IPrecopyRounds? session = started;
        HomePageService? service = null;
        try
        {
            var (rounds, precopied) = (0, 0L);
            if (precopy)
            {
                bool rest;
                (session, rounds, precopied, rest) = await PrecopyDriver.RunAsync(home.Engine, Pid, talk, precopyRounds, async () =>
                    await talk.ReceiveAsync(HomeSide.AnswerTimeout).ConfigureAwait(false) is Failed failed
                        ? $"node {target} could not take the pre-copy of process {Pid}: {failed.Reason}"
                        : null, cancel, _progress, started, mayPostcopy, _pacer, Clock.Mark).ConfigureAwait(false);
                postcopy = rest;
                if (postcopy)
                    home.Logger.LogInformation("Process {Pid}: the pre-copy did not converge ({Rounds} rounds, {MiB:F1} MiB): the rest by post-copy",
                        Pid, rounds, precopied / 1048576.0);
            }
            // A tree's members freeze only once every member's pre-copy is done (or not at all: the gate throws).
            if (Gate is not null) await Gate.FreezeAsync().ConfigureAwait(false);
            // Before the copy can ask: it asks once its image is being restored.
            if (postcopy) service = new HomePageService(talk.Link, new Checkpoint.Postcopy.FrozenProcessPages(Pid), home.Logger).Attach();
            await talk.SendAsync(postcopy ? new PostcopyFinal() : (MigrationMessage)new Final(), cancel).ConfigureAwait(false);
            var frozenAt = Stopwatch.StartNew();
            _progress.Enter(MigrationProgress.Frozen);
            var bytes = await LinkImageWriteStream.SendAsync(talk.Link, image =>
            {
                if (postcopy) home.Engine.CheckpointFrozenLeavingMemory(Pid, image, session);
                else home.Engine.CheckpointFrozen(Pid, image, session);
            }, _progress.PerFrame, _pacer).ConfigureAwait(false);
            Clock.Mark("final image");
            _progress.Done(bytes);
            return new SentImage(rounds, precopied, bytes, frozenAt, service);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (service is not null) await service.Stop("the move failed").ConfigureAwait(false);
            // The dumper resumed the process before rethrowing (a pre-copy never stopped it for longer than a call).
            home.Registry.Update(process, p => p.State = ProcessState.Home);
            if (e is MigrationException) throw;
            if (e is LinkException || e.InnerException is LinkException)
                throw new MigrationException($"node {target} failed during the transfer ({e.Message}); process {Pid} runs on here", e);
            throw new MigrationException($"checkpoint of process {Pid} failed: {e.Message}", e);
        }
        catch
        {
            if (service is not null) await service.Stop("the move was cancelled").ConfigureAwait(false);
            throw;
        }
        finally
        {
            // The frozen process changes nothing more: the write tracking has done its work.
            session?.Dispose();
        }
    }

    /// <summary>Waits for the copy, commits, and waits for it to run; otherwise the original runs on here.</summary>
    /// <returns>the copy, and when (on <paramref name="frozenAt"/>) the target said it was restored.</returns>
    private async Task<(Restored, TimeSpan)> CommitAsync(Stopwatch frozenAt, CancellationToken cancel)
    {
        try
        {
            var answer = await talk.ReceiveAsync(HomeSide.AnswerTimeout).ConfigureAwait(false);
            if (answer is Failed failed) throw new MigrationException($"node {target} could not restore process {Pid}: {failed.Reason}");
            var restoredAt = frozenAt.Elapsed;
            Clock.Mark("restored");
            // A tree's members commit only once every member's copy is restored; otherwise this one is thawed here.
            if (Gate is not null) await Gate.CommitAsync().ConfigureAwait(false);
            await talk.SendAsync(new Commit(home.Checkpoints is null ? 0 : (int)home.CheckpointEvery.TotalMilliseconds), cancel).ConfigureAwait(false);
            await talk.ReceiveAsync(HomeSide.AnswerTimeout).ConfigureAwait(false);
            return ((Restored)answer, restoredAt);
        }
        catch (Exception e) when (e is LinkException or MigrationException)
        {
            home.Engine.Thaw(Pid);
            home.Registry.Update(process, p => p.State = ProcessState.Home);
            HomeLog.CalledOff(home.Logger, Pid, target, e.Message);
            throw e as MigrationException ?? new MigrationException($"node {target}: {e.Message}", e);
        }
    }

    private void BecomeDeputy()
    {
        // A signal the deputy gets before its relay starts (a resize right after `om migrate` returns) is held and
        // forwarded when the relay starts (HomeRelay), not dropped.
        home.SignalsOnHold.Open(Pid);
        try
        {
            home.Deputies.MakeDeputy(Pid);
        }
        catch (Checkpoint.Tracing.TraceeGoneException e)
        {
            home.SignalsOnHold.Close(Pid);
            // Killed at home while it waited frozen (the OOM killer on the node it is leaving): it is dead to its
            // parent, so its copy must not live on; closing the link (the caller does) ends it on the target.
            home.Registry.Update(process, p => p.State = ProcessState.Home);
            home.Registry.Forget(Pid);
            throw new MigrationException($"process {Pid} was killed at home before its move to node {target} completed; its copy there is ended", e);
        }
    }
}
