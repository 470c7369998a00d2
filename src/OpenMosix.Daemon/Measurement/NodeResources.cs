namespace OpenMosix.Daemon.Measurement;

/// <summary>
/// What this node can offer, as limited by the cgroup omd runs in: CPUs' worth of time (a fractional quota counts as
/// such), memory, and the calibrated speed of one CPU. Capacity is in reference-CPU units × 10000.
/// </summary>
public sealed record NodeResources(double EffectiveCpus, int OnlineCpus, uint Speed, ulong TotalMemory)
{
    public int Cpus => Math.Max(1, (int)Math.Ceiling(EffectiveCpus - 1e-9));

    public uint Capacity => (uint)Math.Max(1, Math.Round(EffectiveCpus * Speed));
}
