namespace OpenMosix.Simulator.Engine;

internal sealed class SimJob(int id, double work, double memory, double arrival, int home)
{
    public int Id { get; } = id;
    /// <summary>Seconds on the reference CPU.</summary>
    public double Work { get; } = work;
    public double Memory { get; } = memory;
    public double Arrival { get; } = arrival;
    public int Home { get; set; } = home;
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
