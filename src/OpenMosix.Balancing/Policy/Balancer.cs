using OpenMosix.Balancing.Model;

namespace OpenMosix.Balancing.Policy;

/// <summary>
/// One round of decisions for the processes one node is responsible for: those running on it (load balancing, memory
/// ushering, expel) and its own processes running elsewhere (bring). Pure and deterministic: the same views give the
/// same decisions. Each decision is applied to a working copy of the views before the next is made, so one round
/// never sends more to a node than it can take, and never empties a node into another one.
/// </summary>
public static class Balancer
{
    /// <param name="moves">How long moves out of <paramref name="self"/> take (its measured speed, the moves already
    /// decided); null: the link's speed from <paramref name="options"/>, nothing under way.</param>
    public static IReadOnlyList<Decision> Decide(ushort self, IReadOnlyList<NodeView> nodes, IReadOnlyList<ProcessView> processes, BalancerOptions options,
        MoveTimes? moves = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(processes);
        ArgumentNullException.ThrowIfNull(options);
        var state = new Dictionary<ushort, Working>();
        foreach (var node in nodes) state.TryAdd(node.Id, new Working(node));
        if (!state.TryGetValue(self, out var here) || !here.View.Alive) return [];
        var round = new Round(self, here, state, options);
        var controls = here.View.Controls;

        if (controls.HasFlag(NodeControls.Bring))
            foreach (var p in processes.Where(p => p.Home == self && p.Node != self && !p.CantMove).OrderBy(p => p.Pid))
                round.Add(new Decision(p.Pid, p.Node, self, MoveReason.Bring));

        var running = processes.Where(p => p.Node == self).OrderBy(p => p.Pid).ToList();
        if (controls.HasFlag(NodeControls.Expel))
            foreach (var p in running.Where(p => p.Home != self && !p.CantMove))
                if (round.HomeOrRoomFor(p) is { } to) round.Move(p, to, MoveReason.Expel);
        if (controls.HasFlag(NodeControls.Stay)) return round.Decisions;

        var movable = running.Where(p => !round.Moved(p) && !p.Locked && !p.CantMove
                                         && !(p.Home == self && controls.HasFlag(NodeControls.LocalStay))).ToList();
        Usher(round, movable, new UsherSchedule(moves ?? MoveTimes.FromLink(options), options));
        BalanceLoad(round, movable);
        return round.Decisions;
    }

    /// <summary>
    /// Short of memory, now or by the time a process's move would end at the rate the processes here grow
    /// (<see cref="UsherSchedule"/>): the biggest processes go first, each where the most memory stays free after it
    /// (its growth over its look-ahead included), until what is left here is enough for the moves still to come. A
    /// process whose move would still end in time stays for now: a later round sends it if it must.
    /// </summary>
    private static void Usher(Round round, List<ProcessView> movable, UsherSchedule schedule)
    {
        var here = round.Here;
        var threshold = here.View.TotalMemory * round.Options.UsherBelowFreeFraction;
        var growing = movable.Sum(p => p.MemoryGrowth);
        foreach (var p in movable.OrderByDescending(p => p.MemoryBytes + schedule.Lookahead(p.MemoryBytes) * p.MemoryGrowth).ThenBy(p => p.Pid))
        {
            var ahead = schedule.Lookahead(p.MemoryBytes);
            // Here.Free already counts the memory of the processes this round sent away as free.
            if (here.Free - ahead * growing >= threshold) continue;
            var need = p.MemoryBytes + ahead * p.MemoryGrowth;
            var target = round.Targets(p, need)
                .OrderByDescending(t => t.Free - need - t.View.TotalMemory * round.Options.KeepFreeFraction)
                .ThenBy(t => LoadMath.Normalized(t.View, t.Load))
                .ThenBy(t => t.View.Id)
                .FirstOrDefault();
            if (target is null) continue;
            round.Move(p, target, MoveReason.Memory, need: need);
            schedule.Decided(p.MemoryBytes);
            // Frozen for its move, then gone: it no longer fills this node.
            growing -= p.MemoryGrowth;
        }
    }

    /// <summary>
    /// The opportunity-cost rule, per process, CPU-bound ones first: move where it runs faster by more than the margin,
    /// without lowering what the two nodes get done together, when the time it is expected to save (it is expected to
    /// run about as long again as it has run) exceeds the cost of moving its memory by the cost factor.
    /// </summary>
    private static void BalanceLoad(Round round, List<ProcessView> movable)
    {
        var options = round.Options;
        var here = round.Here;
        var sent = 0;
        foreach (var p in movable.Where(p => !round.Moved(p) && p.Demand >= options.MinDemand && p.SinceLastMove >= options.Cooldown)
                     .OrderByDescending(p => Math.Min(p.Demand, 1.0)).ThenBy(p => p.MemoryBytes).ThenBy(p => p.Pid))
        {
            if (sent >= options.MaxOutPerRound) break;
            var demand = Math.Min(p.Demand, 1.0);
            var rateHere = LoadMath.Rate(here.View, here.Load, demand);
            Working? best = null;
            var bestRate = 0.0;
            foreach (var t in round.Targets(p).Where(t => t.In < options.MaxInPerRound))
            {
                var rateThere = LoadMath.Rate(t.View, t.Load + demand, demand);
                if (rateThere <= rateHere * (1 + options.Margin)) continue;
                var before = LoadMath.Throughput(here.View, here.Load) + LoadMath.Throughput(t.View, t.Load);
                var after = LoadMath.Throughput(here.View, here.Load - demand) + LoadMath.Throughput(t.View, t.Load + demand);
                if (after < before - 1e-9) continue;
                if (best is null || rateThere > bestRate + 1e-12
                    || (Math.Abs(rateThere - bestRate) <= 1e-12 && LoadMath.Normalized(t.View, t.Load) < LoadMath.Normalized(best.View, best.Load)))
                {
                    best = t;
                    bestRate = rateThere;
                }
            }
            if (best is null) continue;
            var cost = options.MoveOverheadSeconds + p.MemoryBytes / options.LinkBytesPerSecond;
            // Through home on its way: two moves, and the time at home between them.
            if (p.PassesHome && best.View.Id != p.Home) cost *= 2;
            var saved = p.Age.TotalSeconds * (1 - rateHere / bestRate);
            if (saved <= options.CostFactor * cost) continue;
            round.Move(p, best, MoveReason.Load, saved);
            sent++;
        }
    }

    /// <summary>A node as this round sees it: its view, plus what the round's decisions changed.</summary>
    private sealed class Working(NodeView view)
    {
        public NodeView View { get; } = view;
        public double Load { get; set; } = view.Load;
        public double Free { get; set; } = view.FreeMemory;
        public int In { get; set; }
    }

    private sealed class Round(ushort self, Working here, Dictionary<ushort, Working> nodes, BalancerOptions options)
    {
        private readonly HashSet<int> _moved = [];

        public Working Here { get; } = here;
        public BalancerOptions Options { get; } = options;
        public List<Decision> Decisions { get; } = [];

        public bool Moved(ProcessView p) => _moved.Contains(p.Pid);

        public void Add(Decision decision)
        {
            _moved.Add(decision.Pid);
            Decisions.Add(decision);
        }

        public void Move(ProcessView p, Working to, MoveReason reason, double gain = 0, double? need = null)
        {
            var demand = Math.Clamp(p.Demand, 0, 1);
            Here.Load -= demand;
            Here.Free += p.MemoryBytes;
            to.Load += demand;
            to.Free -= need ?? p.MemoryBytes;
            to.In++;
            Add(new Decision(p.Pid, self, to.View.Id, reason, gain));
        }

        /// <summary>Nodes that may take <paramref name="p"/>: alive, telling their load, not blocked, not one that
        /// refused it, speaking a protocol version with this node and with the process's home (the copy's node talks
        /// to both), and left with enough free memory after it (<paramref name="need"/>: its size, or more when it grows).</summary>
        public IEnumerable<Working> Targets(ProcessView p, double? need = null) =>
            nodes.Values.Where(t => t.View.Id != self && t.View.Alive
                                    && (t.View.Controls & (NodeControls.Blocked | NodeControls.Quiet | NodeControls.Expel)) == 0
                                    && !p.Refused.Contains(t.View.Id)
                                    && t.View.SpeaksWith(Here.View)
                                    && (p.Home == self || !nodes.TryGetValue(p.Home, out var origin) || t.View.SpeaksWith(origin.View))
                                    && Fits(t, need ?? p.MemoryBytes)
                                    && (!p.PassesHome || t.View.Id == p.Home || (nodes.TryGetValue(p.Home, out var home) && home.View.Alive && Fits(home, need ?? p.MemoryBytes))));

        private bool Fits(Working node, double bytes) => node.Free - bytes >= node.View.TotalMemory * Options.KeepFreeFraction;

        /// <summary>Where an expelled guest goes: home when home is alive, else the node with the most room.</summary>
        public Working? HomeOrRoomFor(ProcessView p)
        {
            if (nodes.TryGetValue(p.Home, out var home) && home.View.Alive) return home;
            return Targets(p).OrderByDescending(t => t.Free).ThenBy(t => t.View.Id).FirstOrDefault();
        }
    }
}
