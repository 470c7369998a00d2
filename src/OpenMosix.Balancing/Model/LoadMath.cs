namespace OpenMosix.Balancing.Model;

/// <summary>The arithmetic of shared CPUs that every decision rests on.</summary>
public static class LoadMath
{
    public const double ReferenceSpeed = 10000;

    /// <summary>How fast one process of demand <paramref name="demand"/> runs on a node with total demand
    /// <paramref name="load"/> (itself included), in reference CPUs: the node's speed, shared when over-committed.</summary>
    public static double Rate(NodeView node, double load, double demand = 1.0)
    {
        var cpus = Math.Max(node.Cpus, 1);
        var share = load <= cpus ? 1.0 : cpus / load;
        return node.Speed / ReferenceSpeed * share * Math.Min(1.0, Math.Max(demand, 0));
    }

    /// <summary>Work the node gets done per second with <paramref name="load"/> CPUs of demand, in reference CPUs.</summary>
    public static double Throughput(NodeView node, double load) => node.Speed / ReferenceSpeed * Math.Min(Math.Max(load, 0), Math.Max(node.Cpus, 1));

    /// <summary>Load per capacity: 1.0 means every CPU busy; comparable across nodes of different speed and size.</summary>
    public static double Normalized(NodeView node, double load) => load / Math.Max(node.Capacity, 1e-9);
}
