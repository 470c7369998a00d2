namespace OpenMosix.Daemon.Migration.Checkpoints;

/// <summary>
/// What a guest's periodic checkpoints are weighed against on its node (<see cref="CheckpointDeferral.Reason"/>): the
/// node's memory now and the ushering threshold.
/// </summary>
public sealed record CheckpointConditions(Func<(ulong Total, ulong Free)> Here, double UsherBelowFreeFraction)
{
    /// <summary>Why a checkpoint holding about <paramref name="imageBytes"/> here waits, or null.</summary>
    public string? Deferral(long imageBytes) =>
        CheckpointDeferral.Reason(Here() is var (total, free) ? new NodeMemory(total, free) : default, imageBytes, UsherBelowFreeFraction);
}
