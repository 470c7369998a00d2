using OpenMosix.Cluster.Gossip;

namespace OpenMosix.Daemon.Measurement;

/// <summary>
/// Measures how fast one CPU of this node runs a fixed integer yardstick, in thread CPU time so that neither other
/// load nor a cgroup quota distorts it. <see cref="LoadVector.ReferenceSpeed"/> (10000) is a CPU that runs
/// <see cref="ReferenceRate"/> rounds per CPU-second: one vCPU of the 2-core development machines, so speeds read as
/// "times one of those".
/// </summary>
public static class SpeedCalibrator
{
    /// <summary>Yardstick rounds per CPU-second of the reference CPU (measured on the development machines).</summary>
    public const double ReferenceRate = 380_000_000;

    private const int RoundsPerBatch = 1 << 20;

    public static uint Measure(TimeSpan budget)
    {
        // A short warm-up lets the CPU leave its idle frequency and the JIT settle before the clock starts.
        Yardstick(RoundsPerBatch, 1);
        var best = 0.0;
        var deadline = CpuClock.CurrentThread() + budget;
        ulong seed = 0x9E3779B97F4A7C15;
        // Several short batches, keeping the fastest: a batch that was preempted measures the scheduler, not the CPU.
        while (CpuClock.CurrentThread() < deadline)
        {
            var start = CpuClock.CurrentThread();
            seed = Yardstick(RoundsPerBatch, seed);
            var spent = (CpuClock.CurrentThread() - start).TotalSeconds;
            if (spent > 0) best = Math.Max(best, RoundsPerBatch / spent);
        }
        GC.KeepAlive(seed);
        return ToSpeed(best);
    }

    public static uint ToSpeed(double roundsPerSecond) =>
        (uint)Math.Clamp(Math.Round(LoadVector.ReferenceSpeed * roundsPerSecond / ReferenceRate), 1, 10_000_000);

    /// <summary>A dependent chain of multiplies, shifts and xors: no memory traffic, nothing to vectorise away.</summary>
    private static ulong Yardstick(int rounds, ulong state)
    {
        for (var i = 0; i < rounds; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state *= 0x2545F4914F6CDD1D;
        }
        return state;
    }
}
