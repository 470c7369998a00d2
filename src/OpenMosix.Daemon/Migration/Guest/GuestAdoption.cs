using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// A new omd adopts the guests the last omd of this node left when it died without a drain (guests.json). For each
/// copy still alive (PID and start time) whose keeper is still there, it takes the copy's pipe ends and listener from
/// the keeper (pidfd_getfd), traces the copy for its exit status (it is init's child now), starts a keeper of its own
/// and ends the old one, all before it takes connections; then the copy waits, stopped, for its home to resume it on
/// a new link (<see cref="Resume"/>, which home sends when it sees its link close). Resumed, the copy runs on and is
/// relayed as before, checkpointed as home asks in its resume, and free to go home or on (the engine lends its exit
/// watch's trace to those: see docs/reliability.md); it is in the guest directory then, so this node's balancer, mosctl
/// expel and the drain at stop move it like any guest. Not resumed within the window, it is killed: home restarts it
/// from its checkpoint, or loses it.
/// </summary>
internal sealed class GuestAdoption(IMigrationEngine engine, ProcessRegistry registry, GuestResumes resumes, GuestKeeping keeping, ILogger logger)
{
    /// <summary>What each periodic checkpoint of an adopted copy waits for, as for any guest; null: nothing.</summary>
    public Checkpoints.CheckpointConditions? CheckpointConditions { get; init; }

    /// <summary>Where this node's balancer, mosctl expel, `om migrate` here and the drain at stop find an adopted copy
    /// to ask its home to move it, as any guest, once its home has resumed it.</summary>
    public GuestDirectory? Directory { get; init; }

    /// <summary>Home's migration endpoint, probed when home's link closes: a node up with no omd listening is waited for.</summary>
    public Func<ushort, System.Net.IPEndPoint?>? HomeEndpoint { get; init; }

    /// <summary>How this node moves what an adopted copy forked here when its home asks; null: such requests are turned down.</summary>
    public Func<ManagedProcess, string, bool?, Task<MigrationResult>>? MoveForked { get; init; }

    private sealed record Adopted(SavedGuest Saved, GuestStay Stay, RelayPipes Pipes, SafeFileHandle? Listener, KeptGuest? Kept,
        GuestResumes.Expected Expected);

    private readonly List<Adopted> _adopted = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> _held = new();
    // The adopted guests relayed now: their stay, pipes and the output counts their relay began at.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, (GuestStay Stay, RelayPipes Pipes, IReadOnlyList<OutputCount> From)> _relaying = new();

    /// <summary>How long an orderly stop waits for an adopted copy's output to be handed to its link.</summary>
    private static readonly TimeSpan FlushBound = TimeSpan.FromSeconds(2);

    /// <summary>
    /// omd stops in order: each adopted copy relayed now is stopped and what it wrote is sent home before the relay
    /// ends (what a relay read and had not sent would be lost with this omd; what stays in the pipe goes to the next).
    /// </summary>
    public async Task StopForNextOmdAsync()
    {
        foreach (var (pid, (stay, pipes, _)) in _relaying)
        {
            try
            {
                Signals.Kill(pid, Signals.SIGSTOP);
            }
            catch (ProcessAccessException)
            {
                continue;
            }
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < FlushBound && !Flushed(stay, pipes)) await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <summary>Whether every byte the copy wrote into its counted outputs was handed to the link.</summary>
    private static bool Flushed(GuestStay stay, RelayPipes pipes) =>
        stay.Counted.All(c => c.Value.Written(pipes.Outputs[c.Key]) == stay.Sent[c.Key].Total);

    /// <summary>Whether <paramref name="pid"/> is a guest adopted here. Resumed, it is in the guest directory like any
    /// guest (the drain sends it home); one an orderly stop could not send home is not killed but left stopped to its
    /// keeper for the next omd, as a kill of this omd would leave it.</summary>
    public bool Holds(int pid) => _held.ContainsKey(pid);

    /// <summary>Whether <paramref name="pid"/> is an adopted guest that still waits, stopped, for its home to resume it:
    /// no home can be asked to move it yet.</summary>
    public bool Waiting(int pid) => _held.ContainsKey(pid) && !_relaying.ContainsKey(pid);

    /// <summary>Takes over what the dead omd held of each of its guests; to be done before this omd takes connections.</summary>
    public int Prepare()
    {
        foreach (var saved in keeping.State.Load())
        {
            var why = TryAdopt(saved);
            if (why is null) continue;
            GuestLog.NotAdopted(logger, saved.CopyPid, saved.HomePid, saved.Home, why);
            keeping.State.Remove(saved.CopyPid);
        }
        return _adopted.Count;
    }

    /// <summary>Each adopted guest waits for its home, then is relayed until its stay ends.</summary>
    public Task RunAsync(CancellationToken cancel) =>
        Task.WhenAll(_adopted.Select(adopted => Task.Run(() => RelayAsync(adopted, cancel), CancellationToken.None)));

    private string? TryAdopt(SavedGuest saved)
    {
        if (ProcessRegistry.StartTimeOf(saved.CopyPid) != saved.CopyStart) return "the copy has ended";
        if (ProcessRegistry.StartTimeOf(saved.KeeperPid) != saved.KeeperStart) return "its keeper is gone (the copy is killed by it)";
        var held = new List<SafeFileHandle>();
        try
        {
            using (var keeper = PidFd.Open(saved.KeeperPid))
                for (var i = 0; i < saved.Held; i++)
                    held.Add(GuestKeeper.Take(keeper, i));
        }
        catch (Exception e) when (e is SyscallException or ProcessAccessException)
        {
            foreach (var handle in held) handle.Dispose();
            return $"its pipes could not be taken from its keeper: {e.Message}";
        }
        Task<ExitStatus> exit;
        try
        {
            exit = engine.AdoptGuest(saved.CopyPid);
        }
        catch (Exception e) when (e is SyscallException or ProcessAccessException)
        {
            foreach (var handle in held) handle.Dispose();
            return $"it could not be traced: {e.Message}";
        }
        var outputs = saved.Outputs.Select((fd, i) => (fd, held[i])).ToDictionary(o => o.fd, o => o.Item2);
        var at = saved.Outputs.Count;
        var input = saved.Input ? held[at++] : null;
        var tally = saved.InputTally ? InputTally.Of(held[at++]) : null;
        var listener = saved.Listener ? held[at] : null;
        var pipes = RelayPipes.Adopted(input, saved.InputIsTerminal, outputs, saved.TerminalOutput);
        // Its input goes on from what the dead omd wrote into its stdin: home sends again what it had taken beyond.
        var stay = new GuestStay(pipes, exit, tally, tally?.Read() ?? 0);
        var kept = KeptGuest.Start(keeping, saved, pipes, listener, tally?.Handle, logger);
        GuestKeeper.Of(saved.KeeperPid).End();
        registry.AddGuest(saved.CopyPid, saved.Uid, (ushort)saved.Home, saved.Command, saved.HomePid,
            Balancing.JobOptions.TryParseDecay(saved.Decay, out var decay) ? decay : null,
            Balancing.JobOptions.TryParseHint(saved.Hint, out var hint) ? hint : OpenMosix.Balancing.Demand.JobHint.Measured,
            saved.Locked, saved.Request);
        var expected = resumes.Expect((ushort)saved.Home, saved.HomePid, saved.CopyPid);
        if (kept is not null) stay.Input.WhenEnded(kept.InputEnded);
        _adopted.Add(new Adopted(saved, stay, pipes, listener, kept, expected));
        _held[saved.CopyPid] = true;
        // Listed from now on, so that expel and the balancer say why it stays rather than that it is no guest.
        Directory?.Add(saved.CopyPid, (_, _) => Task.FromResult<string?>($"it waits, stopped, for a new omd of node {saved.Home} to resume it"));
        GuestLog.Adopted(logger, saved.CopyPid, saved.HomePid, saved.Home, keeping.Window.TotalSeconds);
        return null;
    }

    private async Task RelayAsync(Adopted adopted, CancellationToken cancel)
    {
        var (saved, stay, pipes) = (adopted.Saved, adopted.Stay, adopted.Pipes);
        Resumption? resumed = null;
        MoveRequests? moves = null;
        var left = false;
        try
        {
            resumed = await adopted.Expected.WaitAsync(keeping.Window, cancel).ConfigureAwait(false);
            if (resumed is null && cancel.IsCancellationRequested)
            {
                left = LeaveToKeeper(saved);
                return;
            }
            if (resumed is null)
            {
                GuestLog.NotTakenOver(logger, saved.CopyPid, saved.HomePid, saved.Home, $"its home did not resume it within {keeping.Window.TotalSeconds:F0} s");
                await KillAsync(saved.CopyPid, stay).ConfigureAwait(false);
                return;
            }
            stay.CountSentFrom(resumed.Request.Delivered);
            // Home sends again whatever it relayed past what reached the copy's stdin (the dead omd's queue).
            await resumed.Talk.SendAsync(new Resumed(stay.Input.Received), cancel).ConfigureAwait(false);
            // A guest like any other from here on: the balancer, expel, `om migrate` here and the drain ask its home
            // to move it (a request sent now follows the resumed on the link).
            var requests = moves = new MoveRequests(resumed.Talk);
            Directory?.Add(saved.CopyPid, (target, reason) => requests.RequestAsync(saved.CopyPid, target, reason));
            _relaying[saved.CopyPid] = (stay, pipes, resumed.Request.Delivered);
            using var forwarder = adopted.Listener is { } listener
                ? new Forwarding.GuestForwarder(saved.CopyPid, listener, [], new Dictionary<int, OpenMosix.Checkpoint.Restore.ForwardMirrorEnds>(), saved.ReservedFrom, saved.ReservedTop, resumed.Talk.Link, logger)
                {
                    HomeGroup = saved.HomeGroup,
                }
                : null;
            forwarder?.Start();
            Signals.Kill(saved.CopyPid, Signals.SIGCONT);
            GuestLog.ResumedHere(logger, saved.CopyPid, saved.HomePid, saved.Home);
            // Home's omd killed in turn (its node up): the copy is stopped and waits for the next omd there to resume
            // it, as any guest's (GuestTakeover); home lost otherwise: it is killed; this omd stopping: it is left to
            // its keeper. Checkpointed and free to go home like any copy: the engine lends its exit watch's trace.
            var takeover = new GuestTakeover((ushort)saved.Home, saved.HomePid, saved.CopyPid, stay, adopted.Expected, HomeEndpoint, keeping.Window, logger);
            var (talk, unsent) = (resumed.Talk, (IReadOnlyDictionary<int, byte[]>?)null);
            while (true)
            {
                var homeGone = false;
                var detached = await new GuestRelay(engine, talk, pipes, stay, moves, logger)
                    {
                        CheckpointEvery = TimeSpan.FromMilliseconds(resumed.Request.CheckpointMs),
                        CheckpointConditions = CheckpointConditions,
                        Forwarder = forwarder,
                        Registry = registry,
                        MoveForkedChild = MoveForked,
                        Unsent = unsent,
                        ExitReported = adopted.Expected.Exiting,
                        ExitMayBeUnread = adopted.Expected.ExitMayBeUnread,
                        ExitRead = adopted.Expected.ExitRead,
                        Detach = async link => cancel.IsCancellationRequested || (homeGone = await takeover.DetachAsync(link).ConfigureAwait(false)),
                    }
                    .RunAsync(saved.CopyPid, cancel).ConfigureAwait(false);
                if (!detached) break;
                if (!homeGone || cancel.IsCancellationRequested)
                {
                    left = LeaveToKeeper(saved);
                    break;
                }
                moves.End(null);
                Directory?.Add(saved.CopyPid, (_, _) => Task.FromResult<string?>($"it waits, stopped, for a new omd of node {saved.Home} to resume it"));
                _relaying.TryRemove(saved.CopyPid, out _);
                resumed.Done.TrySetResult();
                resumed = await takeover.WaitAsync(cancel, killOnStop: false).ConfigureAwait(false);
                if (resumed is null)
                {
                    // This omd stops while the copy waits: left to its keeper like one never resumed. Otherwise no omd
                    // took it over in time, and it was killed: home restarts the process from its checkpoint.
                    if (cancel.IsCancellationRequested) left = LeaveToKeeper(saved);
                    break;
                }
                (talk, unsent) = (resumed.Talk, takeover.Unsent);
                // Its calls about its children go on to the new omd's deputy there.
                forwarder?.Relink(talk.Link);
                var next = moves = new MoveRequests(talk);
                Directory?.Add(saved.CopyPid, (target, reason) => next.RequestAsync(saved.CopyPid, target, reason));
                _relaying[saved.CopyPid] = (stay, pipes, resumed.Request.Delivered);
            }
        }
        catch (Exception e) when (e is LinkException or ProcessAccessException)
        {
            GuestLog.NotTakenOver(logger, saved.CopyPid, saved.HomePid, saved.Home, e.Message);
            await KillAsync(saved.CopyPid, stay).ConfigureAwait(false);
        }
        catch (OpenMosix.Checkpoint.Tracing.TraceeGoneException e)
        {
            // Its exit watch failed: its exit was taken by another trace of it (one killed while frozen for a
            // checkpoint, its end collected by the freeze; docs/reliability.md). Its status is unknown: home hears the
            // link close and finds no copy to resume, so it restarts the process from its checkpoint, or loses it.
            GuestLog.EndedUnwatched(logger, saved.CopyPid, saved.HomePid, saved.Home, e.Message);
            try
            {
                Signals.Kill(saved.CopyPid, Signals.SIGKILL);
            }
            catch (ProcessAccessException)
            {
                // Gone, as its watch said.
            }
        }
        finally
        {
            resumed?.Done.TrySetResult();
            adopted.Expected.Dispose();
            // Left: its keeper and its entry stay for the next omd.
            if (!left) adopted.Kept?.Dispose();
            adopted.Listener?.Dispose();
            Directory?.Remove(saved.CopyPid);
            // A request under way ends with the stay: it left (home, on, or ended), or stays stopped for the next omd.
            moves?.End(left ? "left stopped to its keeper for the next omd" : null);
            registry.RemoveGuest(saved.CopyPid);
            _held.TryRemove(saved.CopyPid, out _);
            _relaying.TryRemove(saved.CopyPid, out _);
            stay.Dispose();
            pipes.Dispose();
        }
    }

    /// <summary>omd stops: the copy is stopped now (its keeper would do so as omd ends) and left for the next omd.</summary>
    private bool LeaveToKeeper(SavedGuest saved)
    {
        try
        {
            Signals.Kill(saved.CopyPid, Signals.SIGSTOP);
        }
        catch (ProcessAccessException)
        {
            // Ended: the next omd finds it gone, and its home restarts or loses it.
        }
        GuestLog.LeftToKeeper(logger, saved.CopyPid, saved.HomePid, saved.Home);
        return true;
    }

    private static async Task KillAsync(int pid, GuestStay stay)
    {
        try
        {
            Signals.Kill(pid, Signals.SIGKILL);
        }
        catch (ProcessAccessException)
        {
            // Ended already.
        }
        await stay.Exit.ConfigureAwait(false);
    }
}
