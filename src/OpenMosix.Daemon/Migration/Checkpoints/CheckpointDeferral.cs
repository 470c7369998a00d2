namespace OpenMosix.Daemon.Migration.Checkpoints;

/// <summary>A node's memory: its total and what is free (for a cgroup node, of its limit).</summary>
public readonly record struct NodeMemory(ulong Total, ulong Free);

/// <summary>
/// When a periodic checkpoint waits (docs/reliability.md). A checkpoint costs memory where it is taken (the final
/// image is held in memory while it is sent: as much as the process wrote since the last one), and CPU, disk and
/// network at home, which takes it in and merges it. Neither is worth a process: on a node short of memory the image
/// could bring the OOM killer, and a home moving processes out (ushering, for lack of memory) would see their freezes
/// stretched by the checkpoints of those already gone (measured: 5.1 s instead of 1–1.5 s, and a process killed at
/// home meanwhile). So the copy's node takes none while the image would leave it below the ushering threshold, and
/// asks home first, which says wait while it moves a process out, for <see cref="MoveOutLinger"/> after (ushering
/// moves one after another), and while its free memory is within <see cref="HomeMargin"/> of the threshold. Pure.
/// </summary>
public static class CheckpointDeferral
{
    /// <summary>How far above the ushering threshold home's free memory must be (a fraction of its total): ushering
    /// starts above the threshold (it looks ahead at the rate its processes grow), and keeps a full node just above it
    /// while it moves processes out. Measured: with a tenth, a whole checkpoint streamed home at 20 % free while
    /// ushering's next move began.</summary>
    public const double HomeMargin = 0.15;

    /// <summary>How long after a move out home still counts as moving processes out: the next one of a burst follows
    /// within a balancer round or two.</summary>
    public static readonly TimeSpan MoveOutLinger = TimeSpan.FromSeconds(5);

    /// <summary>Why the checkpoint waits on the copy's node, or null when it may be taken now.</summary>
    /// <param name="here">The memory of the node where the process runs.</param>
    /// <param name="imageBytes">About how much of the image is held in memory there (what the process wrote since the last one).</param>
    /// <param name="usherBelowFreeFraction">The ushering threshold (balancer.usher_below_free).</param>
    public static string? Reason(NodeMemory here, long imageBytes, double usherBelowFreeFraction)
    {
        var left = (double)here.Free - Math.Max(0, imageBytes);
        return here.Total > 0 && left < here.Total * usherBelowFreeFraction
            ? $"this node is short of memory ({here.Free >> 20} MiB free, the image needs about {imageBytes >> 20} MiB)"
            : null;
    }

    /// <summary>Why home says a checkpoint (or its merge) waits, or null.</summary>
    /// <param name="home">Home's memory now; null when not known.</param>
    /// <param name="movesOut">Moves out under way.</param>
    /// <param name="sinceLastMoveOut">Time since the last move out ended; null when none has.</param>
    /// <param name="freeFraction">The fraction of its memory home keeps free.</param>
    public static string? HomeBusy(NodeMemory? home, int movesOut, TimeSpan? sinceLastMoveOut, double freeFraction)
    {
        if (movesOut > 0) return $"home is moving {movesOut} process{(movesOut == 1 ? "" : "es")} out";
        if (sinceLastMoveOut < MoveOutLinger) return $"home moved a process out {sinceLastMoveOut.Value.TotalSeconds:F1} s ago";
        if (home is { Total: > 0 } h && h.Free < h.Total * (freeFraction + HomeMargin))
            return $"home is short of memory ({h.Free >> 20} MiB of {h.Total >> 20} MiB free)";
        return null;
    }
}
