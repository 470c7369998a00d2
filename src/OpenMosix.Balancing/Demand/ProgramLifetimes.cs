namespace OpenMosix.Balancing.Demand;

/// <summary>
/// How long each program's processes lived, for <see cref="Policy.ExecPlacement"/>: the last
/// <see cref="Kept"/> lifetimes of each program, and their median once it has run <see cref="KnownAfter"/> times (the
/// median, because one run in a hundred on a huge input must not make every short run look worth moving). Pure.
/// </summary>
public sealed class ProgramLifetimes(int knownAfter = 3, int kept = 16)
{
    private readonly Dictionary<string, Queue<TimeSpan>> _runs = new(StringComparer.Ordinal);

    public int KnownAfter { get; } = knownAfter >= 1 ? knownAfter : throw new ArgumentOutOfRangeException(nameof(knownAfter));
    public int Kept { get; } = kept >= knownAfter ? kept : throw new ArgumentOutOfRangeException(nameof(kept));

    public void Record(string program, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (!_runs.TryGetValue(program, out var runs)) _runs[program] = runs = new Queue<TimeSpan>(Kept);
        if (runs.Count == Kept) runs.Dequeue();
        runs.Enqueue(lifetime < TimeSpan.Zero ? TimeSpan.Zero : lifetime);
    }

    /// <summary>The median of the program's recent lifetimes, or null while it has run fewer than KnownAfter times.</summary>
    public TimeSpan? Typical(string program)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (!_runs.TryGetValue(program, out var runs) || runs.Count < KnownAfter) return null;
        var sorted = runs.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
