namespace OpenMosix.Balancing.Demand;

/// <summary>
/// How long each program's processes lived, from exec to exit, for <see cref="Policy.ExecPlacement"/>: what MOSIX
/// learned to tell a compiler pass that ends in a second from a solver that runs for an hour before either has used
/// any CPU. The last <see cref="Kept"/> lifetimes of each program, and their median once it has run
/// <see cref="KnownAfter"/> times (the median, because one run in a hundred on a huge input must not make every short
/// run look worth moving). At most <see cref="ProgramsKept"/> programs are remembered (a daemon runs for months); the
/// one used least recently is forgotten first. Pure.
/// </summary>
public sealed class ProgramLifetimes(int knownAfter = 3, int kept = 16, int programsKept = 1024)
{
    private readonly Dictionary<string, LinkedListNode<(string Program, Queue<TimeSpan> Runs)>> _byProgram = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Program, Queue<TimeSpan> Runs)> _recentFirst = new();

    public int KnownAfter { get; } = knownAfter >= 1 ? knownAfter : throw new ArgumentOutOfRangeException(nameof(knownAfter));
    public int Kept { get; } = kept >= knownAfter ? kept : throw new ArgumentOutOfRangeException(nameof(kept));
    public int ProgramsKept { get; } = programsKept >= 1 ? programsKept : throw new ArgumentOutOfRangeException(nameof(programsKept));

    /// <summary>How many programs are remembered.</summary>
    public int Count => _byProgram.Count;

    public void Record(string program, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (_byProgram.TryGetValue(program, out var node))
        {
            _recentFirst.Remove(node);
            _recentFirst.AddFirst(node);
        }
        else
        {
            if (_byProgram.Count >= ProgramsKept && _recentFirst.Last is { } oldest)
            {
                _byProgram.Remove(oldest.Value.Program);
                _recentFirst.RemoveLast();
            }
            node = _recentFirst.AddFirst((program, new Queue<TimeSpan>(Kept)));
            _byProgram[program] = node;
        }
        var runs = node.Value.Runs;
        if (runs.Count == Kept) runs.Dequeue();
        runs.Enqueue(lifetime < TimeSpan.Zero ? TimeSpan.Zero : lifetime);
    }

    /// <summary>The median of the program's recent lifetimes, or null while it has run fewer than KnownAfter times.</summary>
    public TimeSpan? Typical(string program)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (!_byProgram.TryGetValue(program, out var node) || node.Value.Runs.Count < KnownAfter) return null;
        var sorted = node.Value.Runs.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
