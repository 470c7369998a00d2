using OpenMosix.Simulator.Specs;

namespace OpenMosix.Simulator.Engine;

/// <summary>
/// Process trees (<see cref="TreeSpec"/>): parent t runs on node t+1 and its children are born there, at most
/// <see cref="TreeSpec.Parallel"/> at a time from its queue (all at once for fork-and-forget); a make driver's link job
/// is born when the last of its compile jobs has ended. A lost child frees its slot like a finished one (make -k).
/// </summary>
internal sealed class TreeWorkload : Workload
{
    private const double MiB = 1 << 20;

    private sealed class Tree
    {
        public Queue<SimJob> Waiting { get; } = new();
        public List<SimJob> Children { get; } = [];
        public int Unended { get; set; }
        public SimJob? Link { get; set; }
    }

    private readonly TreeSpec _spec;
    private readonly SimJob[] _jobs;
    private readonly Tree[] _trees;

    public TreeWorkload(TreeSpec spec, int nodes, Random random)
    {
        if (spec.Parents > nodes) throw new ArgumentException($"tree: {spec.Parents} parents need as many nodes, but there are {nodes}");
        _spec = spec;
        var jobs = new List<SimJob>(spec.Processes);
        _trees = new Tree[spec.Parents];
        for (var t = 0; t < _trees.Length; t++)
        {
            var tree = _trees[t] = new Tree();
            for (var i = 0; i < spec.Children; i++)
            {
                var child = Born(jobs, spec.Length, t, spec.ChildProgram, random);
                tree.Waiting.Enqueue(child);
                tree.Children.Add(child);
            }
            tree.Unended = spec.Children;
            if (spec.Link is { } link) tree.Link = Born(jobs, link, t, TreeSpec.LinkProgram, random);
        }
        _jobs = [.. jobs];

        SimJob Born(List<SimJob> all, Distribution length, int tree, string program, Random r)
        {
            var job = new SimJob(all.Count, Math.Max(0.001, length.Draw(r)), Math.Max(1, _spec.MemoryMiB.Draw(r)) * MiB, double.PositiveInfinity, tree + 1)
            {
                Program = program,
                Tree = tree,
            };
            all.Add(job);
            return job;
        }
    }

    public override SimJob[] Jobs => _jobs;

    public override bool IsTree => true;

    public override IEnumerable<SimJob> Initial()
    {
        var born = new List<SimJob>();
        foreach (var tree in _trees)
            for (var i = 0; i < _spec.Parallel && tree.Waiting.Count > 0; i++) born.Add(Birth(tree.Waiting.Dequeue(), 0));
        return born;
    }

    public override IEnumerable<SimJob> After(SimJob ended, double now)
    {
        ArgumentNullException.ThrowIfNull(ended);
        if (ended.Tree < 0) return [];
        var tree = _trees[ended.Tree];
        if (ended == tree.Link) return [];
        tree.Unended--;
        if (tree.Waiting.Count > 0) return [Birth(tree.Waiting.Dequeue(), now)];
        return tree.Unended == 0 && tree.Link is { } link ? [Birth(link, now)] : [];
    }

    /// <summary>All work over all capacity, or the longest tree's critical path, whichever is later. A tree's path is
    /// its children's phase, which takes at least their work over N processes at the fastest node's speed and at least
    /// its longest child there, followed by its link job there.</summary>
    public override double Ideal(double capacity, double fastest)
    {
        var longestPath = _trees.Max(t =>
            Math.Max(t.Children.Sum(c => c.Work) / (_spec.Parallel * fastest), t.Children.Max(c => c.Work) / fastest)
            + (t.Link?.Work ?? 0) / fastest);
        return Math.Max(_jobs.Sum(j => j.Work) / capacity, longestPath);
    }

    private static SimJob Birth(SimJob job, double now)
    {
        job.Arrival = now;
        return job;
    }
}
