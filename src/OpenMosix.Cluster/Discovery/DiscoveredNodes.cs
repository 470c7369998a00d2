using System.Net;
using System.Text;
using OpenMosix.Cluster.Map;

namespace OpenMosix.Cluster.Discovery;

/// <summary>
/// The nodes omdiscd has heard announce themselves, as a map. A node that falls silent for the forget time leaves
/// it; a second address claiming a known id is ignored (and counted) until the first owner falls silent, so a
/// misconfigured node cannot steal a live node's id. Pure: the caller passes the time.
/// </summary>
public sealed class DiscoveredNodes(ushort selfId, IPAddress selfAddress, TimeSpan forgetAfter)
{
    private readonly SortedDictionary<ushort, (IPAddress Address, DateTimeOffset LastHeard)> _nodes = [];

    public long Conflicts { get; private set; }

    public int Count => _nodes.Count + 1;

    /// <summary>Records an announcement; true when the set of nodes or an address changed.</summary>
    public bool Observe(ushort id, IPAddress address, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (id == selfId) return false;
        if (_nodes.TryGetValue(id, out var known))
        {
            if (!known.Address.Equals(address))
            {
                Conflicts++;
                return false;
            }
            _nodes[id] = (address, now);
            return false;
        }
        // An address moving to a new id (a node restarted with another id) drops its old entry.
        var previous = _nodes.Where(n => n.Value.Address.Equals(address)).Select(n => n.Key).ToList();
        foreach (var old in previous) _nodes.Remove(old);
        if (address.Equals(selfAddress))
        {
            Conflicts++;
            return previous.Count > 0;
        }
        _nodes[id] = (address, now);
        return true;
    }

    /// <summary>Forgets nodes silent for longer than the forget time; true when any was forgotten.</summary>
    public bool Expire(DateTimeOffset now)
    {
        var silent = _nodes.Where(n => now - n.Value.LastHeard > forgetAfter).Select(n => n.Key).ToList();
        foreach (var id in silent) _nodes.Remove(id);
        return silent.Count > 0;
    }

    /// <summary>The map text: one line per node (this node included), in id order.</summary>
    public string ToMapText()
    {
        var all = new SortedDictionary<ushort, IPAddress>(_nodes.ToDictionary(n => n.Key, n => n.Value.Address))
        {
            [selfId] = selfAddress,
        };
        var text = new StringBuilder("# discovered by omdiscd\n");
        foreach (var (id, address) in all)
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{id} {address} 1\n");
        return text.ToString();
    }

    public ClusterMap ToMap() => ClusterMap.Parse(ToMapText(), "omdiscd");
}
