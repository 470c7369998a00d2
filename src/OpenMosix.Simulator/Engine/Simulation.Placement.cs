using OpenMosix.Balancing.Demand;
using OpenMosix.Balancing.Model;
using OpenMosix.Balancing.Policy;

namespace OpenMosix.Simulator.Engine;

/// <summary>
/// Placement of a tree's newborn children (openmosix): <see cref="ExecPlacement"/> decides when from what the
/// parent's node has learnt of the program's lifetimes, and <see cref="StartPlacement"/> where, over the node and a
/// window of others, with the moves under way counted, so a burst spreads. A node sends at most the balancer's
/// MaxConcurrentMoves placements at a time (omd's tracer is one per node); the rest run at home until their turn,
/// and each is decided afresh when it comes. A child holds only a tiny image (<see cref="SmallImage"/>) while it
/// waits at its birth node for the decision; once it is placed, or left where it is, it takes its full size (it
/// runs there, and grows).
/// </summary>
public sealed partial class Simulation
{
    private readonly ProgramLifetimes?[] _lifetimes;
    private const double SmallImage = 1 << 20;
    private long _placements;

    private ProgramLifetimes LifetimesOf(SimNode node) => _lifetimes[node.Id - 1] ??= new ProgramLifetimes();

    private void ConsiderPlacing(SimNode node, SimJob job)
    {
        // A hair over the age, so a probation that ends at its exact instant is over despite rounding.
        var age = TimeSpan.FromSeconds(_now - job.Arrival + 1e-9);
        var typical = LifetimesOf(_nodes[job.Home - 1]).Typical(job.Program);
        var verdict = ExecPlacement.Decide(typical, age, TimeSpan.FromSeconds(_options.SmallMoveSeconds), _balancer);
        switch (verdict.Timing)
        {
            case ExecTiming.Now:
                node.Placing.Enqueue((job, job.Epoch));
                SendPlacements(node);
                break;
            case ExecTiming.AfterProbation:
                Schedule(_now + verdict.Wait.TotalSeconds, new Event(Kind.Probation, job.Id, job.Epoch));
                break;
            default:
                Grow(node, job);
                break;
        }
    }

    /// <summary>Its probation is over: if it still runs where it was born (not finished, not moved), decide again.</summary>
    private void Probation(SimJob job, int epoch)
    {
        if (job.Done || job.Node < 1 || job.Epoch != epoch) return;
        ConsiderPlacing(_nodes[job.Node - 1], job);
    }

    private void SendPlacements(SimNode node)
    {
        while (node.Alive && node.PlacementsUnderWay < Math.Max(1, _balancer.MaxConcurrentMoves) && node.Placing.TryDequeue(out var entry))
        {
            var job = entry.Job;
            if (job.Done || job.Node != node.Id || job.Epoch != entry.Epoch) continue;
            if (PlacementTarget(node) is not { } target)
            {
                Grow(node, job);
                continue;
            }
            node.Leave(job, _now);
            Reschedule(node);
            _placements++;
            node.PlacementsUnderWay++;
            Send(job, target, _options.SmallMoveSeconds);
            Schedule(_now + _options.SmallMoveSeconds, new Event(Kind.PlacementDone, node.Id, 0));
        }
    }

    /// <summary>It stays where it runs: it grows to its full size there.</summary>
    private void Grow(SimNode node, SimJob job)
    {
        if (job.Memory >= job.FullMemory) return;
        node.Resize(job, job.FullMemory, _now);
        Reschedule(node);
    }

    private void PlacementDone(SimNode node)
    {
        if (!node.Alive) return;
        node.PlacementsUnderWay--;
        SendPlacements(node);
    }

    /// <summary>Where a child running on <paramref name="node"/> would run fastest, or null to stay: the node's own
    /// load without the child, every other one's with what is on its way there.</summary>
    private SimNode? PlacementTarget(SimNode node)
    {
        var window = new List<SimNode>(_options.Window);
        SampleWindow(node, window);
        var views = new List<NodeView>(window.Count + 1) { ViewOf(node) with { Load = node.Jobs.Count + node.Incoming - 1 } };
        views.AddRange(window.Select(ViewOf));
        return StartPlacement.Choose((ushort)node.Id, views, _balancer) is { } id ? _nodes[id - 1] : null;
    }
}
