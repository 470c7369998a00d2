using System.Diagnostics;
using OpenMosix.Admin;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Daemon.Processes;
using OpenMosix.Daemon.Web.Metrics;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// A moved process's trip home: home asks for it (come-home), its node freezes it and streams its image back
/// (image-follows), and it is rebuilt into its deputy (same PID, same parent, its own descriptors). Home answers
/// "home" (the copy there ends) or "stay" (it runs on where it was).
/// </summary>
internal sealed class ReturnTrip(HomeSide home)
{
    /// <summary>How long a trip home may take before its caller stops waiting.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(10);

    public async Task<MigrationResult> BringHomeAsync(ManagedProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        var homecoming = new TaskCompletionSource<MigrationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var relay = home.Relays.BeginHomecoming(process.Pid, homecoming);
        home.Registry.Update(process, p => p.State = ProcessState.Migrating);
        try
        {
            await relay.AskHomeAsync().ConfigureAwait(false);
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

    /// <summary>The image arrives (after image-follows): rebuild it into the deputy, then tell its node. True when it is home.</summary>
    public async Task<bool> ReceiveHomeAsync(ManagedProcess process, Conversation talk, Action<Frame> stdio)
    {
        var pid = process.Pid;
        var from = process.Where;
        var clock = Stopwatch.StartNew();
        var relay = home.Relays.Find(pid);
        try
        {
            var bytes = await Blocking.Run(() =>
            {
                var wire = new LinkImageReadStream(talk.Link, stdio);
                home.Deputies.RestoreInto(pid, wire);
                return wire.BytesReceived;
            }).ConfigureAwait(false);
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
            HomeLog.CameHome(home.Logger, pid, from, bytes >> 20, clock.Elapsed.TotalMilliseconds);
            home.Counters.Moved(MigrationDirection.Home, clock.Elapsed);
            relay?.Homecoming?.TrySetResult(new MigrationResult(pid, from, home.Self, bytes, (long)clock.Elapsed.TotalMilliseconds, pid));
            relay?.ReleaseHeld(cameHome: true);
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException and not LinkException)
        {
            HomeLog.NotHome(home.Logger, pid, e.Message);
            home.Counters.Count(MigrationDirection.Home, MigrationOutcome.Failed);
            await talk.SendAsync(new Stay(e.Message)).ConfigureAwait(false);
            home.Registry.Update(process, p => p.State = ProcessState.Remote);
            if (relay is not null)
            {
                home.Relays.FailHomecoming(relay, new MigrationException($"process {pid} could not come home and runs on at node {from}: {e.Message}", e));
                relay.ReleaseHeld(cameHome: false);
            }
            return false;
        }
    }
}
