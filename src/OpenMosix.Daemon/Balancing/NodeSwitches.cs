using OpenMosix.Cluster.Gossip;

namespace OpenMosix.Daemon.Balancing;

/// <summary>
/// The mosctl switches of this node (block, quiet, stay, lstay): gossiped with its load vector, obeyed by the
/// migration listener (a blocked node refuses every offer) and by the balancer (stay and lstay keep processes here).
/// </summary>
public sealed class NodeSwitches
{
    private int _flags;

    public NodeFlags Current => (NodeFlags)Volatile.Read(ref _flags);

    public bool Blocked => Current.HasFlag(NodeFlags.Blocked);

    /// <summary>Turns one switch on or off; returns the switches after the change.</summary>
    public NodeFlags Set(NodeFlags flag, bool on)
    {
        int before, after;
        do
        {
            before = Volatile.Read(ref _flags);
            after = on ? before | (int)flag : before & ~(int)flag;
        } while (Interlocked.CompareExchange(ref _flags, after, before) != before);
        return (NodeFlags)after;
    }
}
