using System.Globalization;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// A restored process takes its oom_score_adj from the image rather than from the restorer it was spawned by. Raising
/// it is always allowed; lowering it below the value its restorer had needs CAP_SYS_RESOURCE, which not every node
/// grants root: there the process keeps the nearer value and the log says so, since a job the OOM killer may take
/// sooner than before is not a reason to refuse a move that is already under way.
/// </summary>
internal static class OomScore
{
    public static void Restore(int pid, int wanted, ILogger logger)
    {
        var now = ProcFs.ReadOomScoreAdjust(pid);
        if (now == wanted) return;
        try
        {
            File.WriteAllText($"/proc/{pid}/oom_score_adj", wanted.ToString(CultureInfo.InvariantCulture));
        }
        catch (UnauthorizedAccessException)
        {
            logger.LogWarning("Process {Pid} keeps oom_score_adj {Now}, not its {Wanted}: lowering it needs CAP_SYS_RESOURCE, which this node lacks", pid, now, wanted);
        }
    }
}
