namespace OpenMosix.Balancing.Model;

/// <summary>The mosctl switches of a node, as the balancer obeys them.</summary>
[Flags]
public enum NodeControls
{
    None = 0,
    /// <summary>block: accepts no guests.</summary>
    Blocked = 1,
    /// <summary>quiet: tells no one its load; nobody sends it work.</summary>
    Quiet = 2,
    /// <summary>stay: no process running here leaves automatically.</summary>
    Stay = 4,
    /// <summary>lstay: this node's own processes stay home; guests may still move on.</summary>
    LocalStay = 8,
    /// <summary>expel: every guest is sent home (then the node is blocked).</summary>
    Expel = 16,
    /// <summary>bring: every own process away is brought home (then the node keeps its processes: lstay).</summary>
    Bring = 32,
}
