namespace OpenMosix.Cluster.Gossip.Simulation;

/// <summary>Datagrams the simulated network carried since the simulation started.</summary>
public sealed class TrafficCounters
{
    public long PacketsSent { get; internal set; }
    public long BytesSent { get; internal set; }
    public long PacketsLost { get; internal set; }
    /// <summary>Datagrams addressed to a node that was down when they arrived.</summary>
    public long PacketsToDownNodes { get; internal set; }
    public long PacketsRejected { get; internal set; }
}
