using OpenMosix.Checkpoint.Engine;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// Remote fork on the copy's link: home's moves of what the copy forked here (`om migrate` at home), and what the copy
/// forked when it outlives the copy: the copy's exit status goes home at once, as its parent at home must see it, and
/// the link stays for the rest, their output and their reports, until the last of them ended.
/// </summary>
internal sealed partial class GuestRelay
{
    // Answers to home's moves that ended while the copy's image went home: sent once it stays.
    private readonly List<ForkedMoved> _heldAnswers = [];

    /// <summary>
    /// The copy ended and processes it forked here run on. What the copy wrote (all that is in its pipes now: it writes
    /// no more) goes home first, then its exit status (<see cref="Outlived"/>), though its children hold the pipes open;
    /// their output follows as they write it, and their reports every <see cref="UsageInterval"/> until none is left
    /// and the pipes are closed. Home's signals and moves for them are served meanwhile. A terminal's output goes home
    /// first too (what waits in the terminal when the copy's end is read, <see cref="PumpedBytes.SentAllWrittenToTerminalAsync"/>):
    /// its parent at home, a shell, prints its next line only after the job's last one.
    /// </summary>
    private async Task<bool> OutliveAsync(int guestPid, ExitStatus status, Dictionary<int, Task> outputs, Task fromHome,
        CancellationTokenSource stop, CancellationToken cancel)
    {
        _forks!.CopyEnded = true;
        var terminal = pipes.TerminalOutput is { } fd && stay.TerminalCounted is { } shown
            ? Task.WhenAny(shown.SentAllWrittenToTerminalAsync(pipes.Outputs[fd]), outputs[fd])
            : Task.CompletedTask;
        await Task.WhenAll(stay.Counted.Select(c =>
            Task.WhenAny(c.Value.SentAllWrittenAsync(pipes.Outputs[c.Key]), outputs[c.Key])).Append(terminal)).ConfigureAwait(false);
        GuestLog.Outlived(logger, guestPid, status.ToString());
        try
        {
            await SendUnderReportsAsync(new Outlived(status.Code, status.Signal)).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            if (Detach is not null && await Detach(talk.Link).ConfigureAwait(false)) return true;
            GuestLog.HomeLost(logger, guestPid, HomeNode, e.Message);
            return false;
        }
        try
        {
            using var timer = new PeriodicTimer(UsageInterval);
            while (!fromHome.IsCompleted && !cancel.IsCancellationRequested)
            {
                if (_forks.Due() is { } due) await SendUnderReportsAsync(due).ConfigureAwait(false);
                if (!_forks.AnyLeft && outputs.Values.All(o => o.IsCompleted)) break;
                await Task.WhenAny(timer.WaitForNextTickAsync(cancel).AsTask(), fromHome).ConfigureAwait(false);
            }
            GuestLog.OutlivedEnded(logger, guestPid);
        }
        catch (Exception e) when (e is LinkException or OperationCanceledException or ObjectDisposedException)
        {
            // Home is gone: what the copy forked is this node's own and runs on; nobody is left to tell.
        }
        await stop.CancelAsync().ConfigureAwait(false);
        return false;
    }

    /// <summary>Home asked to move a process the copy forked here: this node moves it as one of its own (it keeps its
    /// deputy, which its parent here waits for), or asks the node that one of those that moved on forked it on, and
    /// tells home how that went.</summary>
    private async Task MoveForkedAsync(int guestPid, MoveForked request)
    {
        ForkedMoved answer;
        // One forked by a process of the copy's tree that moved on is moved by the node it was born on, asked in turn.
        var process = _forks?.Find(request.Pid);
        var further = process is null ? _forks?.MovedOnRoute(request.Pid) : null;
        var move = MoveForkedChild;
        if (further is null && (process is null || move is null))
        {
            answer = new ForkedMoved(request.Pid, Error: $"no process {request.Pid} forked by this copy is managed on its node", Refused: true);
        }
        else
        {
            try
            {
                var result = further is not null
                    ? await further.MoveAsync(request.Pid, request.Target, request.Precopy).ConfigureAwait(false)
                    : await move!(process!, request.Target, request.Precopy).ConfigureAwait(false);
                answer = new ForkedMoved(request.Pid, Result: result);
            }
            catch (Exception e) when (e is MigrationException or ArgumentException or ProcessAccessException or SyscallException or IOException)
            {
                var why = e.Message.ReplaceLineEndings(" ");
                answer = new ForkedMoved(request.Pid, Error: why.Length > ForkedMoved.MaxError ? why[..ForkedMoved.MaxError] : why,
                    Refused: e is ArgumentException or MigrationException { Refused: true });
            }
        }
        GuestLog.ForkedMoveAnswered(logger, guestPid, request.Pid, request.Target, answer.Error ?? "moved");
        await _reports.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_returning) _heldAnswers.Add(answer);
            else await talk.SendAsync(answer, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LinkException or ObjectDisposedException)
        {
            // Home is gone: its `om migrate` hears that the link ended.
        }
        finally
        {
            _reports.Release();
        }
    }

    /// <summary>After a trip home that did not happen: the answers held meanwhile go home.</summary>
    private async Task SendHeldAnswersAsync()
    {
        await _reports.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            foreach (var answer in _heldAnswers) await talk.SendAsync(answer, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LinkException or ObjectDisposedException)
        {
            // Home is gone.
        }
        finally
        {
            _heldAnswers.Clear();
            _reports.Release();
        }
    }

    /// <summary>A control message sent as the reports are (one at a time with the answers to home's moves).</summary>
    private async Task SendUnderReportsAsync(MigrationMessage message)
    {
        await _reports.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await talk.SendAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _reports.Release();
        }
    }
}
