using Microsoft.Win32.SafeHandles;
using OpenMosix.Daemon.Migration.Home;

namespace OpenMosix.Daemon.Migration.Checkpoints;

/// <summary>
/// The copy's node died, or its link stayed silent past the timeout: instead of losing the process, home rebuilds its
/// last committed checkpoint into the deputy (same PID, parent and descriptors, as on a trip home) and lets it run
/// here. It first waits until the copy's node, hearing as little of home as home of it, has surely killed the copy
/// (never two copies). What the process writes again that home delivered already is dropped; input it read after the
/// checkpoint is fed to it again (docs/reliability.md: exactly once, assuming it re-executes deterministically).
/// </summary>
internal sealed class CheckpointRestart(HomeSide home)
{
    /// <summary>The streams a restarted process needs: the deputy's stdin (null if none), the input relayed, the outputs.</summary>
    public sealed record Stdio(SafeFileHandle? Stdin, InputLedger? Ledger, IReadOnlyDictionary<int, FileStream> Outputs);

    /// <summary>True when the process runs here again; false when there is no checkpoint or it cannot be used.</summary>
    public async Task<bool> TryAsync(ManagedProcess process, CheckpointKeeper keeper, NodeLink link, Stdio stdio, string why)
    {
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(link);
        ArgumentNullException.ThrowIfNull(stdio);
        var pid = process.Pid;
        var from = process.Where;
        // A deputy killed at home ends its relay too: nothing to restart.
        if (OpenMosix.Linux.Proc.ProcFs.HasEnded(pid)) return false;
        StoredCheckpoint? stored;
        try
        {
            stored = home.Checkpoints?.Open(pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CorruptCheckpointException)
        {
            CheckpointLog.RestartFailed(home.Logger, pid, e.Message);
            return false;
        }
        if (stored is null) return false;
        using (stored)
        {
            await WaitForCopyGivenUpAsync(link).ConfigureAwait(false);
            home.Registry.Update(process, p => p.State = ProcessState.Migrating);
            try
            {
                await Blocking.Run(() =>
                {
                    home.Deputies.TakeRound(pid, stored.Round);
                    return home.Deputies.RestoreInto(pid, stored.Final);
                }).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                home.Deputies.AbandonRounds(pid);
                home.Registry.Update(process, p => p.State = ProcessState.Remote);
                CheckpointLog.RestartFailed(home.Logger, pid, e.Message);
                return false;
            }
            var dropped = SkipDelivered(pid, keeper, stored.Record, stdio.Outputs);
            var fedAgain = FeedInputAgain(pid, stored.Record.InputRead, stdio);
            try
            {
                home.Deputies.LetRun(pid);
            }
            catch (Checkpoint.Restore.RestoreException e)
            {
                // Its threads could not be made: it is dead, and its parent sees it killed, as after a trip home.
                CheckpointLog.RestartFailed(home.Logger, pid, e.Message);
            }
            home.Registry.Update(process, p =>
            {
                p.EndStay();
                p.State = ProcessState.Home;
                p.Where = home.Self;
                p.RemotePid = 0;
            });
            CheckpointLog.Restarted(home.Logger, pid, stored.Record.Sequence, from, why, dropped, fedAgain);
        }
        return true;
    }

    /// <summary>
    /// A process just restarted here goes on to the node where it runs best, as the balancer would place it, leaving
    /// out the node it was lost on; home keeps it when no node is better or the move fails. It was restored here
    /// because the checkpoint is here: the move out streams it from its memory like any other move, and its output
    /// and input pipes (<see cref="OutputSkip"/>, <see cref="InputFeed"/>) stay its descriptors at home, relayed.
    /// </summary>
    public async Task MoveOnAsync(ManagedProcess process, ushort lost)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (home.RestartTarget?.Invoke(process, lost) is not { } target || home.MoveOut is not { } move) return;
        CheckpointLog.MovingOn(home.Logger, process.Pid, target);
        try
        {
            await move(process, target).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MigrationException or ProcessAccessException or SyscallException or IOException or ArgumentException)
        {
            CheckpointLog.StaysAfterRestart(home.Logger, process.Pid, target, e.Message);
        }
    }

    /// <summary>
    /// The copy's node kills the copy once its own link has heard nothing from home for the link timeout: both ends
    /// went silent together, so home waits until its end has been silent that long, and a heartbeat more.
    /// </summary>
    internal static async Task WaitForCopyGivenUpAsync(NodeLink link)
    {
        if (link.Liveness is not { } liveness) return;
        var left = liveness.Timeout + liveness.HeartbeatInterval - link.Silence;
        if (left > TimeSpan.Zero) await Task.Delay(left).ConfigureAwait(false);
    }

    /// <summary>Each output home delivered past the checkpoint's count gets a pipe that drops what comes again.</summary>
    private long SkipDelivered(int pid, CheckpointKeeper keeper, CheckpointRecord record, IReadOnlyDictionary<int, FileStream> outputs)
    {
        var dropped = 0L;
        foreach (var counted in record.Outputs)
        {
            var skip = keeper.DeliveredOf(counted.Fd) - counted.Bytes;
            if (skip <= 0 || !outputs.TryGetValue(counted.Fd, out var output)) continue;
            try
            {
                var pipe = home.Deputies.ReplaceOutput(pid, counted.Fd);
                _ = OutputSkip.Start(pipe, Descriptors.Duplicate(output.SafeFileHandle), skip, home.Logger, pid);
                dropped += skip;
            }
            catch (Exception e) when (e is InvalidOperationException or SyscallException or Checkpoint.Tracing.InjectionException)
            {
                CheckpointLog.RestartFailed(home.Logger, pid, $"its output {counted.Fd} will repeat {skip} bytes: {e.Message}");
            }
        }
        return dropped;
    }

    /// <summary>Input relayed after the checkpoint's count goes to the process again, then the rest of its stdin.</summary>
    private long FeedInputAgain(int pid, long read, Stdio stdio)
    {
        if (stdio.Ledger is not { } ledger) return 0;
        try
        {
            var again = ledger.From(read);
            if (again.Length == 0) return 0;
            var pipe = home.Deputies.ReplaceInput(pid);
            _ = InputFeed.Start(again, stdio.Stdin is null ? null : Descriptors.Duplicate(stdio.Stdin), pipe, home.Logger, pid);
            return again.Length;
        }
        catch (Exception e) when (e is InvalidOperationException or SyscallException or Checkpoint.Tracing.InjectionException)
        {
            CheckpointLog.RestartFailed(home.Logger, pid, $"its input after the checkpoint is not fed again: {e.Message}");
            return 0;
        }
    }
}
