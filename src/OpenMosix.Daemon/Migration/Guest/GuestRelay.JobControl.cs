using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// The copy stopped or continued on this node by a signal sent here (`kill -STOP` of the copy, its own raise): home
/// hears of it, and its deputy stops or goes on with it, so that the parent and the shell at home see what the
/// process does. What home itself forwarded (a stop or SIGCONT sent to the deputy) is not reported back: this side
/// keeps what home believes, and reports only a change from it.
/// </summary>
internal sealed partial class GuestRelay
{
    private readonly Lock _jobLock = new();
    private bool _homeSeesStopped;
    private int _jobGuest;
    // Reports go out one after the other, in the order the copy stopped and went on.
    private Task _jobReports = Task.CompletedTask;

    private void WatchJobControl(int guestPid)
    {
        _jobGuest = guestPid;
        lock (_jobLock) _homeSeesStopped = IsStopped(guestPid);
        if (Forwarder is not null) Forwarder.StopMadeAtHome = StopMadeAtHome;
        engine.WatchJobControl(guestPid, OnJobChange);
    }

    /// <summary>The copy is about to be stopped for a terminal stop it sent itself, which its deputy makes at home
    /// (<paramref name="made"/>): home will see it stopped without a report from here. Otherwise (home could not be made
    /// to stop) the copy's stop goes home as any stop here.</summary>
    private void StopMadeAtHome(bool made)
    {
        lock (_jobLock) _homeSeesStopped = made;
        if (!made && IsStopped(_jobGuest)) OnJobChange(Signals.SIGSTOP);
    }

    /// <summary>Home sent <paramref name="signal"/>: what it believes of the copy after it.</summary>
    private void HomeSignalled(int guestPid, ForwardSignal signal)
    {
        if (CopySignals.StateAfter(guestPid, signal.Signal) is not { } stopped) return;
        lock (_jobLock) _homeSeesStopped = stopped;
    }

    /// <summary>On the tracer thread: the copy stopped (by <paramref name="signal"/>) or went on (0).</summary>
    private void OnJobChange(int signal)
    {
        var stopped = signal != 0;
        // A home of node protocol 6 knows no copy-job message (it would end the relay): its deputy runs on, as it did
        // before version 7, and SIGCONT to it still resumes the copy.
        if (talk.Link.Protocol < CopyJobState.SinceProtocol) return;
        lock (_jobLock)
        {
            if (stopped == _homeSeesStopped) return;
            _homeSeesStopped = stopped;
            var message = new CopyJobState(stopped, signal);
            _jobReports = _jobReports.ContinueWith(_ => SendJobStateAsync(message), CancellationToken.None,
                TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    private async Task SendJobStateAsync(CopyJobState message)
    {
        try
        {
            await _reports.WaitAsync(_stopped).ConfigureAwait(false);
            try
            {
                // On its way home the image records the stop; the copy here is gone after.
                if (_returning) return;
                await talk.SendAsync(message, _stopped).ConfigureAwait(false);
            }
            finally
            {
                _reports.Release();
            }
            GuestLog.JobStateSent(logger, _jobGuest, talk.Link.PeerNode, message.Stopped ? $"stopped by signal {message.Signal}" : "continued");
        }
        catch (Exception e) when (e is OperationCanceledException or LinkException or ObjectDisposedException)
        {
            // The stay is over, or home is gone: the relay finds out.
        }
    }

    private static bool IsStopped(int pid)
    {
        try
        {
            return OpenMosix.Linux.Proc.ProcFs.ReadStat(pid).State == 'T';
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }
}
