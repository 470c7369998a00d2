using OpenMosix.Cluster.Gossip;

namespace OpenMosix.Daemon.Balancing;

/// <summary>
/// The mosctl switches of this node (block, quiet, stay, lstay): gossiped with its load vector, obeyed by the
/// migration listener (a blocked node refuses every offer) and by the balancer (stay and lstay keep processes here).
/// With a <see cref="SwitchFile"/> they start as last saved and every change is saved, so a restart keeps them.
/// </summary>
public sealed class NodeSwitches
{
    /// <summary>The switches by their mosctl names, as the admin API and the state file spell them.</summary>
    public static readonly IReadOnlyDictionary<string, NodeFlags> Names = new Dictionary<string, NodeFlags>(StringComparer.Ordinal)
    {
        ["block"] = NodeFlags.Blocked,
        ["quiet"] = NodeFlags.Quiet,
        ["stay"] = NodeFlags.Stay,
        ["lstay"] = NodeFlags.LocalStay,
    };

    private readonly Lock _gate = new();
    private readonly SwitchFile? _file;
    private int _flags;

    public NodeSwitches(SwitchFile? file = null)
    {
        _file = file;
        _flags = (int)(file?.Load() ?? NodeFlags.None);
    }

    public NodeFlags Current => (NodeFlags)Volatile.Read(ref _flags);

    public bool Blocked => Current.HasFlag(NodeFlags.Blocked);

    /// <summary>The names of the switches that are on now.</summary>
    public IReadOnlyList<string> OnNames() => NamesOf(Current);

    /// <summary>The names of the switches on in <paramref name="flags"/>, in <see cref="Names"/> order.</summary>
    public static IReadOnlyList<string> NamesOf(NodeFlags flags) =>
        [.. Names.Where(s => flags.HasFlag(s.Value)).Select(s => s.Key)];

    /// <summary>Turns one switch on or off and saves the result; returns the switches after the change.</summary>
    public NodeFlags Set(NodeFlags flag, bool on)
    {
        // One writer at a time, so the file never ends up older than the switches in memory.
        lock (_gate)
        {
            var before = Volatile.Read(ref _flags);
            var after = on ? before | (int)flag : before & ~(int)flag;
            Volatile.Write(ref _flags, after);
            if (after != before) _file?.Save((NodeFlags)after);
            return (NodeFlags)after;
        }
    }
}
