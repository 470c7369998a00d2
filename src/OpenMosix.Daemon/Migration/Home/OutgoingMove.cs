using System.Diagnostics;
using OpenMosix.Daemon.Migration.Engine;
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

    private int Pid => process.Pid;

    /// <summary>The result for the caller, and what the target relays (for the relay to open at home).</summary>
    public async Task<(MigrationResult Result, Restored Restored)> RunAsync(bool precopy, int precopyRounds, CancellationToken cancel)
    {
        home.Registry.Update(process, p => p.Command = ProcessRegistry.CommandOf(Pid));
        await talk.SendAsync(OfferBuilder.For(process, home.Self, home.HomePaths), cancel).ConfigureAwait(false);
        if (await talk.ReceiveAsync(HomeSide.AnswerTimeout).ConfigureAwait(false) is Refuse refuse)
            throw new MigrationException($"node {target} refused process {Pid}: {refuse.Reason}") { Refused = true };

        home.Registry.Update(process, p => p.State = ProcessState.Migrating);
        var whole = Stopwatch.StartNew();
        var (session, rounds, precopied, bytes, frozenAt) = await SendImageAsync(precopy, precopyRounds, cancel).ConfigureAwait(false);
        var sent = frozenAt.Elapsed;
        _progress.Enter(MigrationProgress.Restoring);
        var (restored, restoredAt) = await CommitAsync(frozenAt, cancel).ConfigureAwait(false);
        var frozen = frozenAt.Elapsed;
        BecomeDeputy();
        HomeLog.FrozenPhases(home.Logger, Pid, frozen.TotalMilliseconds, sent.TotalMilliseconds, (restoredAt - sent).TotalMilliseconds,
            (frozen - restoredAt).TotalMilliseconds, (frozenAt.Elapsed - frozen).TotalMilliseconds);
        return (new MigrationResult(Pid, home.Self, target, bytes, (long)frozen.TotalMilliseconds, restored.RemotePid)
        {
            PrecopyRounds = rounds,
            PrecopyBytes = precopied,
            TotalMs = (long)whole.Elapsed.TotalMilliseconds,
        }, restored);
    }

    /// <summary>Pre-copy rounds if asked for, then the final image, frozen.</summary>
    private async Task<(IPrecopyRounds?, int, long, long, Stopwatch)> SendImageAsync(bool precopy, int precopyRounds, CancellationToken cancel)
    {
        IPrecopyRounds? session = null;
        try
        {
            var (rounds, precopied) = (0, 0L);
            if (precopy)
                (session, rounds, precopied) = await PrecopyDriver.RunAsync(home.Engine, Pid, talk, precopyRounds, async () =>
                    await talk.ReceiveAsync(HomeSide.AnswerTimeout).ConfigureAwait(false) is Failed failed
                        ? $"node {target} could not take the pre-copy of process {Pid}: {failed.Reason}"
                        : null, cancel, _progress).ConfigureAwait(false);
            await talk.SendAsync(new Final(), cancel).ConfigureAwait(false);
            var frozenAt = Stopwatch.StartNew();
            _progress.Enter(MigrationProgress.Frozen);
            var bytes = await LinkImageWriteStream.SendAsync(talk.Link, image => home.Engine.CheckpointFrozen(Pid, image, session), _progress.PerFrame).ConfigureAwait(false);
            _progress.Done(bytes);
            return (session, rounds, precopied, bytes, frozenAt);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The dumper resumed the process before rethrowing (a pre-copy never stopped it for longer than a call).
            home.Registry.Update(process, p => p.State = ProcessState.Home);
            if (e is MigrationException) throw;
            if (e is LinkException || e.InnerException is LinkException)
                throw new MigrationException($"node {target} failed during the transfer ({e.Message}); process {Pid} runs on here", e);
            throw new MigrationException($"checkpoint of process {Pid} failed: {e.Message}", e);
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
