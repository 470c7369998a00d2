using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OpenMosix.Cluster.Map;

/// <summary>
/// The immutable node table read from an openMosix map file (<c>/etc/openmosix.map</c>).
/// Format: see docs/map-file.md.
/// </summary>
public sealed class ClusterMap
{
    public const ushort MaxNodeId = ushort.MaxValue;
    private const string AliasKeyword = "ALIAS";

    private readonly ImmutableSortedDictionary<ushort, ClusterNode> _byId;
    private readonly ImmutableDictionary<IPAddress, ushort> _byAddress;

    private ClusterMap(ImmutableSortedDictionary<ushort, ClusterNode> byId, ImmutableDictionary<IPAddress, ushort> byAddress)
    {
        _byId = byId;
        _byAddress = byAddress;
    }

    public static ClusterMap Empty { get; } = new(
        ImmutableSortedDictionary<ushort, ClusterNode>.Empty, ImmutableDictionary<IPAddress, ushort>.Empty);

    /// <summary>Nodes in ascending id order.</summary>
    public IEnumerable<ClusterNode> Nodes => _byId.Values;

    public int Count => _byId.Count;

    public bool TryGetNode(ushort id, [MaybeNullWhen(false)] out ClusterNode node) => _byId.TryGetValue(id, out node);

    /// <summary>Finds the node owning an address, primary or alias (IPv4-mapped IPv6 is treated as IPv4).</summary>
    public bool TryGetNodeByAddress(IPAddress address, [MaybeNullWhen(false)] out ClusterNode node)
    {
        if (_byAddress.TryGetValue(MapFields.Normalise(address), out var id))
            return _byId.TryGetValue(id, out node);
        node = null;
        return false;
    }

    /// <summary>Reads a map file; host names in it are resolved by <paramref name="resolve"/> (default: the system
    /// resolver).</summary>
    public static ClusterMap Load(string path, MapHostResolver? resolve = null) => Parse(File.ReadAllText(path), path, resolve);

    /// <summary>Reads map text; host names in it are resolved by <paramref name="resolve"/> (default: the system
    /// resolver), once, here: the map holds addresses.</summary>
    public static ClusterMap Parse(string text, string fileName, MapHostResolver? resolve = null)
    {
        resolve ??= MapHostNames.ResolveWithDns;
        var primaries = new SortedDictionary<ushort, IPAddress>();
        var aliases = new Dictionary<ushort, List<IPAddress>>();
        var owners = new Dictionary<IPAddress, ushort>();

        var lines = text.Split('\n');
        for (var index = 0; index < lines.Length; index++)
        {
            var lineNumber = index + 1;
            var content = lines[index];
            var hash = content.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
                content = content[..hash];
            var fields = content.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
                continue;
            MapFileException Fail(string reason) => new(fileName, lineNumber, reason);

            if (fields.Length != 3)
                throw Fail($"expected 'first-node-id address count' or 'node-id ALIAS address', found {fields.Length} fields");
            var firstId = MapFields.NodeId(fields[0], Fail);

            if (string.Equals(fields[1], AliasKeyword, StringComparison.OrdinalIgnoreCase))
            {
                var alias = MapFields.Address(fields[2], resolve, Fail);
                if (!primaries.ContainsKey(firstId))
                    throw Fail($"ALIAS for node {firstId}, which no earlier line defines");
                Claim(owners, alias, firstId, Fail);
                if (!aliases.TryGetValue(firstId, out var list))
                    aliases[firstId] = list = [];
                list.Add(alias);
                continue;
            }

            var count = MapFields.Count(fields[2], firstId, Fail);
            var start = MapFields.Address(fields[1], resolve, Fail);
            if (count < 1)
                throw Fail("count must be at least 1");
            if (firstId + (long)count - 1 > MaxNodeId)
                throw Fail($"range of {count} nodes from id {firstId} runs past {MaxNodeId}");
            if (start.AddressFamily == AddressFamily.InterNetworkV6 && count != 1)
                throw Fail("an IPv6 address may only be given with count 1");
            if (start.AddressFamily == AddressFamily.InterNetwork && ToUInt32(start) + (ulong)count - 1 > uint.MaxValue)
                throw Fail($"range of {count} addresses from {start} overflows 255.255.255.255");

            for (uint offset = 0; offset < count; offset++)
            {
                var id = (ushort)(firstId + offset);
                var address = offset == 0 ? start : FromUInt32(ToUInt32(start) + offset);
                if (offset > 0) MapFields.Usable(address, $"node {id}'s address {address}", Fail);
                if (primaries.ContainsKey(id))
                    throw Fail($"node id {id} is already defined");
                Claim(owners, address, id, Fail);
                primaries[id] = address;
            }
        }

        var byId = ImmutableSortedDictionary.CreateBuilder<ushort, ClusterNode>();
        foreach (var (id, address) in primaries)
        {
            var nodeAliases = aliases.TryGetValue(id, out var list) ? [.. list] : ImmutableArray<IPAddress>.Empty;
            byId[id] = new ClusterNode(id, address, nodeAliases);
        }
        return new ClusterMap(byId.ToImmutable(), owners.ToImmutableDictionary());
    }

    /// <summary>Compares this map with a newer one, for live reload.</summary>
    public MapDiff Diff(ClusterMap newer)
    {
        var added = newer._byId.Keys.Where(id => !_byId.ContainsKey(id)).ToImmutableArray();
        var removed = _byId.Keys.Where(id => !newer._byId.ContainsKey(id)).ToImmutableArray();
        var changed = _byId.Values
            .Where(node => newer._byId.TryGetValue(node.Id, out var other) && !node.Equals(other))
            .Select(node => node.Id)
            .ToImmutableArray();
        return new MapDiff(added, removed, changed);
    }

    /// <summary>
    /// Canonical text: runs of consecutive ids on consecutive IPv4 addresses become one range line,
    /// aliases follow as ALIAS lines. Parsing the result gives an equal map.
    /// </summary>
    public string ToText()
    {
        var text = new StringBuilder();
        var nodes = _byId.Values.ToArray();
        var i = 0;
        while (i < nodes.Length)
        {
            var run = 1;
            if (nodes[i].Address.AddressFamily == AddressFamily.InterNetwork)
            {
                while (i + run < nodes.Length
                       && nodes[i + run].Id == nodes[i].Id + run
                       && nodes[i + run].Address.AddressFamily == AddressFamily.InterNetwork
                       && ToUInt32(nodes[i + run].Address) == ToUInt32(nodes[i].Address) + (uint)run)
                    run++;
            }
            text.Append(nodes[i].Id).Append(' ').Append(nodes[i].Address).Append(' ').Append(run).Append('\n');
            i += run;
        }
        foreach (var node in nodes)
            foreach (var alias in node.Aliases)
                text.Append(node.Id).Append(' ').Append(AliasKeyword).Append(' ').Append(alias).Append('\n');
        return text.ToString();
    }

    public bool ContentEquals(ClusterMap other) => Diff(other).IsEmpty;

    private static void Claim(Dictionary<IPAddress, ushort> owners, IPAddress address, ushort id, Func<string, MapFileException> fail)
    {
        if (owners.TryGetValue(address, out var owner))
            throw fail($"address {address} already belongs to node {owner}");
        owners[address] = id;
    }

    private static uint ToUInt32(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
    }

    private static IPAddress FromUInt32(uint value) =>
        new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
}
