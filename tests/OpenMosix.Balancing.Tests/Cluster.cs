using OpenMosix.Balancing.Model;
using OpenMosix.Balancing.Policy;

namespace OpenMosix.Balancing.Tests;

/// <summary>
/// A small cluster for policy tests: nodes and CPU-bound processes whose loads follow from where the processes are.
/// <see cref="Settle"/> lets every node decide in turn and applies the moves, round after round, until nothing moves.
/// </summary>
internal sealed class Cluster(BalancerOptions? options = null)
{
    private const ulong GiB = 1UL << 30;
    private readonly List<NodeView> _nodes = [];
    private readonly List<ProcessView> _processes = [];

    public BalancerOptions Options { get; } = options ?? new BalancerOptions();
    public int Moves { get; private set; }
    public IReadOnlyList<ProcessView> Processes => _processes;

    public Cluster Node(ushort id, double speed = 10000, int cpus = 1, ulong memory = 4 * GiB, NodeControls controls = NodeControls.None)
    {
        _nodes.Add(new NodeView(id, speed, cpus, 0, (long)memory, memory, controls));
        return this;
    }

    /// <summary>Node <paramref name="id"/> gossips that it speaks node protocol versions min-max.</summary>
    public Cluster Speaks(ushort id, byte min, byte max)
    {
        var i = _nodes.FindIndex(n => n.Id == id);
        _nodes[i] = _nodes[i] with { ProtocolMin = min, ProtocolMax = max };
        return this;
    }

    public Cluster Jobs(ushort node, int count, double demand = 1.0, ulong memory = 64 << 20, TimeSpan? age = null, ushort? home = null)
    {
        for (var i = 0; i < count; i++)
            _processes.Add(new ProcessView(1000 + _processes.Count, node, home ?? node, demand, age ?? TimeSpan.FromMinutes(1), memory));
        return this;
    }

    public Cluster With(Func<ProcessView, ProcessView> change)
    {
        for (var i = 0; i < _processes.Count; i++) _processes[i] = change(_processes[i]);
        return this;
    }

    /// <summary>The nodes with loads and free memory as the processes on them make them.</summary>
    public IReadOnlyList<NodeView> Views() => [.. _nodes.Select(n =>
    {
        var here = _processes.Where(p => p.Node == n.Id).ToList();
        var used = here.Aggregate(0UL, (sum, p) => sum + p.MemoryBytes);
        return n with { Load = here.Sum(p => Math.Min(p.Demand, 1)), FreeMemory = (long)n.TotalMemory - (long)used };
    })];

    /// <summary>Node <paramref name="node"/>'s decisions; <paramref name="moves"/>: how long its moves take (null: the link's speed).</summary>
    public IReadOnlyList<Decision> Decide(ushort node, MoveTimes? moves = null) => Balancer.Decide(node, Views(), _processes, Options, moves);

    public void Apply(IEnumerable<Decision> decisions)
    {
        foreach (var d in decisions)
        {
            var i = _processes.FindIndex(p => p.Pid == d.Pid);
            _processes[i] = _processes[i] with { Node = d.To, SinceLastMove = TimeSpan.MaxValue };
            Moves++;
        }
    }

    /// <summary>Rounds of every node deciding (and its moves applied) until a round moves nothing; the number of rounds.</summary>
    public int Settle(int maxRounds = 200)
    {
        for (var round = 1; round <= maxRounds; round++)
        {
            var moved = false;
            foreach (var node in _nodes.Select(n => n.Id).ToList())
            {
                var decisions = Decide(node);
                moved |= decisions.Count > 0;
                Apply(decisions);
            }
            if (!moved) return round;
        }
        throw new InvalidOperationException($"still moving after {maxRounds} rounds");
    }

    public int CountOn(ushort node) => _processes.Count(p => p.Node == node);
}
