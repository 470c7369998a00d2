namespace OpenMosix.Cluster.Gossip;

/// <summary>One row of a node's view of the cluster: the newest vector known and how long ago it last grew.</summary>
public sealed record PeerStatus(LoadVector Vector, TimeSpan Age)
{
    public ushort NodeId => Vector.NodeId;
    public NodeState State => Vector.State;
}
