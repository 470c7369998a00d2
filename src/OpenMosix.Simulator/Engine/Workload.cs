namespace OpenMosix.Simulator.Engine;

/// <summary>The processes of a run and when each is born: all known in advance (flat jobs), or born as others finish
/// (process trees).</summary>
internal abstract class Workload
{
    public abstract SimJob[] Jobs { get; }

    /// <summary>The processes born without waiting for any other, each with its arrival time set.</summary>
    public abstract IEnumerable<SimJob> Initial();

    /// <summary><paramref name="ended"/> finished or was lost at <paramref name="now"/>: the processes born because of it.</summary>
    public virtual IEnumerable<SimJob> After(SimJob ended, double now) => [];

    /// <summary>The makespan no placement can beat, given the cluster's capacity and its fastest node (both in
    /// reference CPUs).</summary>
    public abstract double Ideal(double capacity, double fastest);

    /// <summary>Processes born on a node whose program has run before: what placement at exec applies to.</summary>
    public virtual bool IsTree => false;
}
