namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// Job control of restored guests: a copy stopped or continued on its own node (`kill -STOP` there) is a change its
/// home must hear of, so that the deputy, which its parent and shell watch, stops and goes on with it. The copy is this
/// process's child, so the exit watch's waitpid reports its stops (WUNTRACED) and resumptions (WCONTINUED) too, once
/// each, as it would to a parent at home. An adopted guest (traced, not our child) is watched through its ptrace stops
/// instead: its group-stops and their ends (PassOnStop), but for the one it was seized in (the takeover's own SIGSTOP,
/// which home must not take for the user's).
/// </summary>
public sealed partial class CheckpointEngine
{
    // Guests whose stops and resumptions are reported: the stop signal, or 0 when it runs again.
    private readonly Dictionary<int, Action<int>> _jobWatches = [];

    /// <summary>
    /// Reports every stop (the signal) and every resumption (0) of <paramref name="pid"/>, a restored process watched by
    /// <see cref="WhenExited"/>, to <paramref name="changed"/> until it ends; raised on the tracer thread, which must not
    /// wait in it. A stop during a checkpoint or a trip (when the tracer, not the parent, sees it) is reported by the
    /// next wait after it, if the process is still stopped then and the kernel reports it again; otherwise not at all.
    /// </summary>
    public void WatchJobControl(int pid, Action<int> changed)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(changed);
        _tracer.RunBrief(pid, () =>
        {
            if (_exitWatches.ContainsKey(pid)) _jobWatches[pid] = changed;
            return 0;
        });
    }

    /// <summary>The deputy <paramref name="pid"/> stops with its copy's stop <paramref name="signal"/>, or goes on (0),
    /// as a process stopped there would, its parent told; the signal is not forwarded back to the copy. A deputy
    /// already stopped (or running) is left so.</summary>
    public void FollowCopyInDeputy(int pid, int signal)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _tracer.RunBrief(pid, () => _deputies.FollowCopy(pid, signal));
    }

    private int JobWaitOptions(int pid) =>
        _jobWatches.ContainsKey(pid) && !_adopted.Contains(pid) ? Waiting.WUNTRACED | Waiting.WCONTINUED : 0;

    /// <summary>An adopted guest (traced, not our child) entered a group-stop by <paramref name="signal"/>, or left one
    /// (0), as its tracer saw it; the end of a listen with no stop before it reads as a resumption, which a watcher
    /// that never heard of a stop ignores.</summary>
    private void AdoptedJobChange(int pid, int signal)
    {
        if (_jobWatches.TryGetValue(pid, out var changed)) changed(signal);
    }

    private static bool IsStopped(int pid)
    {
        try
        {
            return ProcFs.ReadStat(pid).State == 'T';
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or FormatException)
        {
            return false;
        }
    }

    private void ReportJobChange(int pid, WaitStatus status)
    {
        if (_adopted.Contains(pid) || !_jobWatches.TryGetValue(pid, out var changed)) return;
        if (status.Continued) changed(0);
        else if (status.Stopped && status.PtraceEvent == 0) changed(status.StopSignal);
    }
}
