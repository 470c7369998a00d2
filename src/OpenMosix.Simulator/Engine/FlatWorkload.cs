using OpenMosix.Simulator.Specs;

namespace OpenMosix.Simulator.Engine;

/// <summary>Independent jobs (<see cref="JobSpec"/>): all at once or a Poisson stream, each starting on its origin.</summary>
internal sealed class FlatWorkload : Workload
{
    private const double MiB = 1 << 20;
    private readonly SimJob[] _jobs;

    public FlatWorkload(JobSpec spec, int nodes, Random random)
    {
        if (spec.Origin == "node" && spec.OriginValue > nodes)
            throw new ArgumentException($"jobs start on node {spec.OriginValue}, but there are {nodes} nodes");
        _jobs = new SimJob[spec.Count];
        var arrival = 0.0;
        for (var j = 0; j < _jobs.Length; j++)
        {
            if (spec.ArrivalRate > 0) arrival += -Math.Log(1 - random.NextDouble()) / spec.ArrivalRate;
            var work = Math.Max(0.001, spec.Length.Draw(random));
            var memory = Math.Max(1, spec.MemoryMiB.Draw(random)) * MiB;
            var origin = spec.Origin switch
            {
                "node" => spec.OriginValue,
                "first" => 1 + j % Math.Min(spec.OriginValue, nodes),
                _ => 1 + random.Next(nodes),
            };
            _jobs[j] = new SimJob(j, work, memory, arrival, origin);
        }
    }

    public override SimJob[] Jobs => _jobs;

    public override IEnumerable<SimJob> Initial() => _jobs;

    /// <summary>All work over all capacity from the first arrival, or the longest job on the fastest node from its
    /// arrival, whichever is later.</summary>
    public override double Ideal(double capacity, double fastest) =>
        Math.Max(_jobs.Min(j => j.Arrival) + _jobs.Sum(j => j.Work) / capacity, _jobs.Max(j => j.Arrival + j.Work / fastest));
}
