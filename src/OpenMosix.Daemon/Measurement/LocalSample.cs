namespace OpenMosix.Daemon.Measurement;

/// <summary>
/// One reading of this node. <see cref="Load"/> is the smoothed run queue divided by capacity in reference CPUs:
/// 1.0 means "as busy as one job per reference CPU"; a job on a half-speed node counts 2.0.
/// </summary>
public sealed record LocalSample(
    double RunQueue,
    double Load,
    double Utilization,
    ulong TotalMemory,
    ulong FreeMemory);
