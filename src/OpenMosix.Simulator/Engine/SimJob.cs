namespace OpenMosix.Simulator.Engine;

internal sealed class SimJob(int id, double work, double memory, double arrival, int home)
{
    public int Id { get; } = id;
    /// <summary>Seconds on the reference CPU.</summary>
    public double Work { get; } = work;
    /// <summary>What it uses where it runs: its full size, or a tiny image just after exec (a tree's child waiting
    /// at its birth node for its placement, which has not grown yet).</summary>
    public double Memory { get; set; } = memory;
    public double FullMemory { get; } = memory;
    /// <summary>When it is born (infinity while a tree's child waits for its turn).</summary>
    public double Arrival { get; set; } = arrival;
    public int Home { get; set; } = home;
    /// <summary>Which tree it belongs to (its parent's index), or -1 for an independent job.</summary>
    public int Tree { get; init; } = -1;
    /// <summary>The program it runs: placement learns lifetimes per program.</summary>
    public string Program { get; init; } = "";
    /// <summary>The node it runs on, or -1 while it travels.</summary>
    public int Node { get; set; } = -1;
    /// <summary>Work left when it last joined a node.</summary>
    public double Remaining { get; set; } = work;
    /// <summary>The node's per-job service counter at which it will be done.</summary>
    public double Target { get; set; }
    /// <summary>Bumped whenever it joins a node, so stale heap entries are recognised.</summary>
    public int Epoch { get; set; }
    public double LastMove { get; set; } = double.NegativeInfinity;
    public double Finish { get; set; } = -1;
    public bool Lost { get; set; }
    public bool Done => Finish >= 0 || Lost;
}
