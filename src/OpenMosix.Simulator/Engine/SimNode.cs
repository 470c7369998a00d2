using OpenMosix.Balancing.Model;

namespace OpenMosix.Simulator.Engine;

/// <summary>
/// One virtual node under processor sharing: every job present gets the same share of its CPUs. Progress is kept as a
/// per-job service counter <see cref="Service"/> (reference-CPU seconds each job has received since the node began),
/// so a change costs O(log n) and a job is done when the counter reaches its target.
/// </summary>
internal sealed class SimNode(int id, double speed, int cpus, double memory)
{
    private readonly PriorityQueue<(SimJob Job, int Epoch), double> _finishing = new();

    public int Id { get; } = id;
    public double Speed { get; } = speed;
    public int Cpus { get; } = cpus;
    public double MemoryTotal { get; } = memory;
    public double MemoryUsed { get; private set; }
    public bool Alive { get; set; } = true;
    public List<SimJob> Jobs { get; } = [];
    public int Incoming { get; set; }
    public double IncomingMemory { get; set; }
    public double Service { get; private set; }
    public double Updated { get; private set; }
    /// <summary>Bumped on every change: completion events carry it, and stale ones are dropped.</summary>
    public int Version { get; private set; }
    public double OvercommittedSeconds { get; private set; }
    /// <summary>Newborn processes waiting here for a free move slot to be placed (with their epoch when queued).</summary>
    public Queue<(SimJob Job, int Epoch)> Placing { get; } = new();
    /// <summary>Placements under way from here: at most the balancer's MaxConcurrentMoves at once.</summary>
    public int PlacementsUnderWay { get; set; }

    public bool Overcommitted => MemoryUsed > MemoryTotal;

    /// <summary>Per-job rate in reference CPUs; a node out of memory thrashes at a tenth of it.</summary>
    public double Rate => Jobs.Count == 0 ? 0 : LoadMath.Rate(View(0), Jobs.Count) * (Overcommitted ? 0.1 : 1);

    public NodeView View(double load) => new((ushort)Id, Speed, Cpus, load, 0, 0);

    public void Advance(double now)
    {
        var dt = now - Updated;
        if (dt > 0)
        {
            Service += Rate * dt;
            if (Overcommitted) OvercommittedSeconds += dt;
        }
        Updated = now;
    }

    public void Join(SimJob job, double now)
    {
        Advance(now);
        job.Node = Id;
        job.Epoch++;
        job.Target = Service + job.Remaining;
        Jobs.Add(job);
        MemoryUsed += job.Memory;
        _finishing.Enqueue((job, job.Epoch), job.Target);
    }

    /// <summary>A job here grows (or shrinks) to <paramref name="memory"/>: the rate may change with it.</summary>
    public void Resize(SimJob job, double memory, double now)
    {
        Advance(now);
        MemoryUsed += memory - job.Memory;
        job.Memory = memory;
    }

    public void Leave(SimJob job, double now)
    {
        Advance(now);
        job.Remaining = Math.Max(0, job.Target - Service);
        Jobs.Remove(job);
        MemoryUsed -= job.Memory;
        job.Node = -1;
        job.Epoch++;
    }

    /// <summary>Jobs whose service is complete at <paramref name="now"/>.</summary>
    public List<SimJob> TakeFinished(double now)
    {
        Advance(now);
        var done = new List<SimJob>();
        while (_finishing.TryPeek(out var entry, out var target))
        {
            if (!IsCurrent(entry)) { _finishing.Dequeue(); continue; }
            if (target > Service + 1e-9) break;
            _finishing.Dequeue();
            Jobs.Remove(entry.Job);
            MemoryUsed -= entry.Job.Memory;
            entry.Job.Node = -1;
            done.Add(entry.Job);
        }
        return done;
    }

    /// <summary>When the next job will be done at the current rate (and a new version for the event), or null.</summary>
    public (double Time, int Version)? NextCompletion()
    {
        Version++;
        while (_finishing.TryPeek(out var entry, out var target))
        {
            if (!IsCurrent(entry)) { _finishing.Dequeue(); continue; }
            var rate = Rate;
            return rate <= 0 ? null : (Updated + Math.Max(0, target - Service) / rate, Version);
        }
        return null;
    }

    public void Fail(double now)
    {
        Advance(now);
        Alive = false;
        Version++;
    }

    private bool IsCurrent((SimJob Job, int Epoch) entry) => entry.Job.Node == Id && entry.Job.Epoch == entry.Epoch && !entry.Job.Done;
}
