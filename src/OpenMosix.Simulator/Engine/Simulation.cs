using System.Diagnostics;
using OpenMosix.Balancing;
using OpenMosix.Balancing.Demand;
using OpenMosix.Balancing.Model;
using OpenMosix.Balancing.Policy;

namespace OpenMosix.Simulator.Engine;

/// <summary>
/// A discrete-event run: job arrivals (or births in process trees), completions under processor sharing, balancer
/// rounds every tick (openmosix), placement of newborn children (Simulation.Placement.cs), moves that take their
/// image's time on the link (the job makes no progress meanwhile), and node failures. Every random choice comes from
/// one generator seeded by the options: the same options give the same report.
/// </summary>
public sealed partial class Simulation
{
    private const double MiB = 1 << 20;
    private enum Kind { Arrival, Completion, Tick, MoveArrives, Failure, Probation, PlacementDone }
    private readonly record struct Event(Kind Kind, int Subject, int Version);

    private readonly SimulationOptions _options;
    private readonly Random _random;
    private readonly SimNode[] _nodes;
    private readonly Workload _workload;
    private readonly SimJob[] _jobs;
    private readonly PriorityQueue<Event, (double Time, long Order)> _events = new();
    private readonly BalancerOptions _balancer;
    private long _order;
    private int _open;
    private int _nextRoundRobin;
    private long _migrations;
    private double _bytesMoved;
    private long _rounds;
    private double _now;

    public Simulation(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Nodes < 1) throw new ArgumentException("a simulation needs at least one node");
        _options = options;
        _random = new Random(options.Seed);
        _balancer = options.Balancer with { LinkBytesPerSecond = options.BandwidthMBps * 1e6 };
        _nodes = [.. Enumerable.Range(0, options.Nodes).Select(i => new SimNode(i + 1, options.Speeds.For(i, _random), options.Cpus, options.NodeMemoryMiB * MiB))];
        _workload = options.Trees is { } trees
            ? new TreeWorkload(trees, options.Nodes, _random)
            : new FlatWorkload(options.Jobs, options.Nodes, _random);
        _jobs = _workload.Jobs;
        _lifetimes = new ProgramLifetimes?[_nodes.Length];
    }

    public SimulationReport Run()
    {
        var wall = Stopwatch.StartNew();
        var fastest = _nodes.Max(n => n.Speed) / LoadMath.ReferenceSpeed;
        var ideal = _workload.Ideal(_nodes.Sum(n => n.Speed * n.Cpus) / LoadMath.ReferenceSpeed, fastest);
        foreach (var job in _workload.Initial()) Schedule(job.Arrival, new Event(Kind.Arrival, job.Id, 0));
        _open = _jobs.Length;
        if (_options.Policy == PlacementPolicy.OpenMosix) Schedule(_options.TickSeconds, new Event(Kind.Tick, 0, 0));
        foreach (var node in Pick(_options.Failures))
            Schedule(_random.NextDouble() * ideal / 2, new Event(Kind.Failure, node.Id, 0));

        while (_open > 0 && _events.TryDequeue(out var e, out var at))
        {
            _now = at.Time;
            switch (e.Kind)
            {
                case Kind.Arrival: Arrive(_jobs[e.Subject]); break;
                case Kind.Completion: Complete(_nodes[e.Subject - 1], e.Version); break;
                case Kind.Tick: Balance(); Schedule(_now + _options.TickSeconds, e); break;
                case Kind.MoveArrives: Land(_jobs[e.Subject], e.Version); break;
                case Kind.Failure: Fail(_nodes[e.Subject - 1]); break;
                case Kind.Probation: Probation(_jobs[e.Subject], e.Version); break;
                case Kind.PlacementDone: PlacementDone(_nodes[e.Subject - 1]); break;
            }
        }
        var finished = _jobs.Where(j => j.Finish >= 0).ToList();
        return new SimulationReport(
            _options.Policy.ToString().ToLowerInvariant(),
            _nodes.Length,
            _jobs.Length,
            finished.Count == 0 ? 0 : finished.Max(j => j.Finish),
            ideal,
            finished.Count == 0 ? 0 : finished.Average(j => (j.Finish - j.Arrival) / (j.Work / fastest)),
            _migrations,
            (double)_migrations / _jobs.Length,
            _placements,
            _bytesMoved / 1e9,
            _jobs.Count(j => j.Lost),
            _nodes.Sum(n => n.OvercommittedSeconds),
            _rounds,
            wall.Elapsed.TotalSeconds);
    }

    private void Schedule(double time, Event e) => _events.Enqueue(e, (time, _order++));

    private void Arrive(SimJob job)
    {
        // A child is forked by its parent: nobody forks it once the parent's node is dead.
        if (job.Tree >= 0 && !_nodes[job.Home - 1].Alive)
        {
            Lose(job);
            return;
        }
        var node = _options.Policy switch
        {
            PlacementPolicy.Random => AliveOrNull(1 + _random.Next(_nodes.Length)),
            PlacementPolicy.RoundRobin => NextRoundRobin(),
            _ => AliveOrNull(job.Home),
        };
        if (node is null)
        {
            Lose(job);
            return;
        }
        job.Home = node.Id;
        if (job.Tree >= 0 && _options.Policy == PlacementPolicy.OpenMosix && _options.PlaceAtExec)
        {
            job.Memory = Math.Min(job.FullMemory, SmallImage);
            Join(node, job);
            ConsiderPlacing(node, job);
        }
        else Join(node, job);
    }

    private SimNode? NextRoundRobin()
    {
        for (var tries = 0; tries < _nodes.Length; tries++)
        {
            var node = _nodes[_nextRoundRobin++ % _nodes.Length];
            if (node.Alive) return node;
        }
        return null;
    }

    private SimNode? AliveOrNull(int id) => _nodes[id - 1].Alive ? _nodes[id - 1] : null;

    private void Join(SimNode node, SimJob job)
    {
        node.Join(job, _now);
        Reschedule(node);
    }

    private void Reschedule(SimNode node)
    {
        if (node.NextCompletion() is { } next) Schedule(next.Time, new Event(Kind.Completion, node.Id, next.Version));
    }

    private void Complete(SimNode node, int version)
    {
        if (!node.Alive || version != node.Version) return;
        foreach (var job in node.TakeFinished(_now))
        {
            job.Finish = _now;
            _open--;
            Ended(job);
        }
        Reschedule(node);
    }

    /// <summary>One balancer round on every node that could have anything to do: more jobs than CPUs (and some node in
    /// its window where a job would run faster by the margin) or memory pressure.</summary>
    private void Balance()
    {
        var window = new List<SimNode>(_options.Window);
        foreach (var node in _nodes)
        {
            if (!node.Alive || node.Jobs.Count == 0) continue;
            var pressure = node.MemoryTotal - node.MemoryUsed < node.MemoryTotal * _balancer.UsherBelowFreeFraction;
            if (node.Jobs.Count <= node.Cpus && !pressure) continue;
            SampleWindow(node, window);
            // Memory pressure with no room anywhere in sight (the whole cluster over-committed) has nothing to decide.
            if (pressure && !AnyRoom(node, window)) pressure = false;
            if (!pressure && !AnyFaster(node, window)) continue;
            _rounds++;
            var views = new List<NodeView>(window.Count + 1) { ViewOf(node) };
            views.AddRange(window.Select(ViewOf));
            var processes = node.Jobs.Select(j => new ProcessView(j.Id, (ushort)node.Id, (ushort)j.Home, 1.0,
                TimeSpan.FromSeconds(_now - j.Arrival), (ulong)j.Memory) { SinceLastMove = TimeSpan.FromSeconds(Math.Min(_now - j.LastMove, 1e9)) }).ToList();
            // A simulated move takes exactly the overhead plus its memory over the link (Move), and moves are not
            // taken in turns: the link's move times are the measured ones here. A job's memory changes in steps (a
            // newborn's 1 MiB, then its full size): the policy is given no growth rate, so its look-ahead changes
            // nothing here.
            foreach (var decision in Balancer.Decide((ushort)node.Id, views, processes, _balancer, MoveTimes.FromLink(_balancer)))
                Move(node, _jobs[decision.Pid], _nodes[decision.To - 1]);
        }
    }

    private bool AnyFaster(SimNode node, List<SimNode> window)
    {
        var here = LoadMath.Rate(node.View(0), node.Jobs.Count);
        foreach (var other in window)
            if (LoadMath.Rate(other.View(0), other.Jobs.Count + other.Incoming + 1) > here * (1 + _balancer.Margin)) return true;
        return false;
    }

    private bool AnyRoom(SimNode node, List<SimNode> window)
    {
        var smallest = node.Jobs.Min(j => j.Memory);
        foreach (var other in window)
            if (other.MemoryTotal - other.MemoryUsed - other.IncomingMemory - smallest >= other.MemoryTotal * _balancer.KeepFreeFraction) return true;
        return false;
    }

    private void SampleWindow(SimNode self, List<SimNode> window)
    {
        window.Clear();
        var want = Math.Min(_options.Window, _nodes.Length - 1);
        for (var tries = 0; window.Count < want && tries < want * 4; tries++)
        {
            var candidate = _nodes[_random.Next(_nodes.Length)];
            if (candidate != self && candidate.Alive && !window.Contains(candidate)) window.Add(candidate);
        }
    }

    private static NodeView ViewOf(SimNode node) => new(
        (ushort)node.Id, node.Speed, node.Cpus, node.Jobs.Count + node.Incoming,
        (long)(node.MemoryTotal - node.MemoryUsed - node.IncomingMemory), (ulong)node.MemoryTotal);

    private void Move(SimNode from, SimJob job, SimNode to)
    {
        from.Leave(job, _now);
        Reschedule(from);
        _migrations++;
        _bytesMoved += job.Memory;
        Send(job, to, _balancer.MoveOverheadSeconds + job.Memory / _balancer.LinkBytesPerSecond);
    }

    /// <summary>A job that has left its node arrives at <paramref name="to"/> after <paramref name="seconds"/>, counted
    /// there meanwhile so no other decision takes it for idle.</summary>
    private void Send(SimJob job, SimNode to, double seconds)
    {
        // Where it goes it grows to its full size: count that there from the start.
        job.Memory = job.FullMemory;
        job.LastMove = _now;
        to.Incoming++;
        to.IncomingMemory += job.Memory;
        Schedule(_now + seconds, new Event(Kind.MoveArrives, job.Id, to.Id));
    }

    private void Land(SimJob job, int to)
    {
        var node = _nodes[to - 1];
        node.Incoming--;
        node.IncomingMemory -= job.Memory;
        if (job.Done) return;
        if (!node.Alive)
        {
            Lose(job);
            return;
        }
        job.LastMove = _now;
        Join(node, job);
    }

    /// <summary>A node dies: what runs there is lost, and so is every job whose home it was (its deputy is gone).</summary>
    private void Fail(SimNode node)
    {
        if (!node.Alive) return;
        var victims = node.Jobs.ToList();
        node.Placing.Clear();
        foreach (var job in victims) node.Leave(job, _now);
        node.Fail(_now);
        foreach (var job in victims) Lose(job);
        foreach (var job in _jobs.Where(j => !j.Done && j.Home == node.Id && j.Arrival <= _now))
        {
            if (job.Node > 0)
            {
                var elsewhere = _nodes[job.Node - 1];
                elsewhere.Leave(job, _now);
                Reschedule(elsewhere);
            }
            Lose(job);
        }
    }

    private void Lose(SimJob job)
    {
        if (job.Done) return;
        job.Lost = true;
        _open--;
        Ended(job);
    }

    /// <summary>A job finished or was lost: the children its tree forks now are born at once.</summary>
    private void Ended(SimJob job)
    {
        if (job.Finish >= 0 && job.Tree >= 0) LifetimesOf(_nodes[job.Home - 1]).Record(job.Program, TimeSpan.FromSeconds(job.Work));
        foreach (var born in _workload.After(job, _now)) Schedule(_now, new Event(Kind.Arrival, born.Id, 0));
    }

    private IEnumerable<SimNode> Pick(int count) => _nodes.OrderBy(_ => _random.Next()).Take(Math.Min(count, _nodes.Length)).ToList();
}
