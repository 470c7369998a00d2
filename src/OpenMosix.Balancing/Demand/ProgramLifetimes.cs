namespace OpenMosix.Balancing.Demand;

/// <summary>
/// How long each program ran, from exec to exit, over its last runs on this node: what MOSIX learned to tell a
/// compiler pass that ends in a second from a solver that runs for an hour before either has used any CPU. The
/// typical lifetime is the median of the last <see cref="RunsKept"/> runs (one odd run does not swing it). At most
/// <see cref="ProgramsKept"/> programs are remembered; the one unused longest is forgotten first. Pure.
/// </summary>
public sealed class ProgramLifetimes
{
    public const int RunsKept = 15, ProgramsKept = 1024;
    private readonly Dictionary<string, LinkedListNode<Entry>> _byProgram = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recentFirst = new();

    private sealed class Entry(string program)
    {
        public string Program { get; } = program;
        public Queue<TimeSpan> Runs { get; } = new();
    }

    public int Count => _byProgram.Count;

    public void Record(string program, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (lifetime < TimeSpan.Zero) return;
        if (!_byProgram.TryGetValue(program, out var node))
        {
            if (_byProgram.Count >= ProgramsKept && _recentFirst.Last is { } oldest)
            {
                _byProgram.Remove(oldest.Value.Program);
                _recentFirst.RemoveLast();
            }
            node = _recentFirst.AddFirst(new Entry(program));
            _byProgram[program] = node;
        }
        else
        {
            _recentFirst.Remove(node);
            _recentFirst.AddFirst(node);
        }
        var runs = node.Value.Runs;
        if (runs.Count == RunsKept) runs.Dequeue();
        runs.Enqueue(lifetime);
    }

    /// <summary>The median lifetime of its last runs; null for a program not seen to end yet.</summary>
    public TimeSpan? Typical(string program)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (!_byProgram.TryGetValue(program, out var node)) return null;
        var sorted = node.Value.Runs.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
