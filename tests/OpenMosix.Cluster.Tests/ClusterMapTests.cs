using System.Net;
using OpenMosix.Cluster.Map;

namespace OpenMosix.Cluster.Tests;

public sealed class ClusterMapTests
{
    private const string GoodMap = """
        # rack A
        1 10.0.0.1 3      # three nodes
        
        10 192.168.1.254 3
        20 fd00::5 1
        2 ALIAS 172.16.0.2
        2 alias 172.16.1.2
        """;

    [Fact]
    public void Ranges_aliases_and_comments_produce_the_listed_nodes()
    {
        var map = ClusterMap.Parse(GoodMap, "test.map");

        Assert.Equal(new ushort[] { 1, 2, 3, 10, 11, 12, 20 }, map.Nodes.Select(n => n.Id));
        Assert.True(map.TryGetNode(3, out var third));
        Assert.Equal(IPAddress.Parse("10.0.0.3"), third.Address);
        Assert.True(map.TryGetNode(12, out var twelfth));
        Assert.Equal(IPAddress.Parse("192.168.2.0"), twelfth.Address);
        Assert.True(map.TryGetNode(20, out var v6));
        Assert.Equal(IPAddress.Parse("fd00::5"), v6.Address);
        Assert.True(map.TryGetNode(2, out var second));
        Assert.Equal([IPAddress.Parse("172.16.0.2"), IPAddress.Parse("172.16.1.2")], second.Aliases);
        Assert.False(map.TryGetNode(4, out _));
    }

    [Fact]
    public void Addresses_find_their_node_through_primary_alias_and_mapped_form()
    {
        var map = ClusterMap.Parse(GoodMap, "test.map");

        Assert.True(map.TryGetNodeByAddress(IPAddress.Parse("10.0.0.2"), out var byPrimary));
        Assert.Equal(2, byPrimary.Id);
        Assert.True(map.TryGetNodeByAddress(IPAddress.Parse("172.16.1.2"), out var byAlias));
        Assert.Equal(2, byAlias.Id);
        Assert.True(map.TryGetNodeByAddress(IPAddress.Parse("::ffff:10.0.0.3"), out var byMapped));
        Assert.Equal(3, byMapped.Id);
        Assert.False(map.TryGetNodeByAddress(IPAddress.Parse("10.0.0.4"), out _));
    }

    [Theory]
    [InlineData("1 10.0.0.1", 1, "found 2 fields")]
    [InlineData("# c\n1 10.0.0.1 1 extra", 2, "found 4 fields")]
    [InlineData("x 10.0.0.1 1", 1, "node id 'x' is not a number")]
    [InlineData("1 10.0.0.1 many", 1, "count 'many' is not a number")]
    [InlineData("0 10.0.0.1 1", 1, "node id 0 is outside 1-65535")]
    [InlineData("65536 10.0.0.1 1", 1, "node id 65536 is outside 1-65535")]
    [InlineData("1 10.0.0.1 0", 1, "count must be at least 1")]
    [InlineData("65530 10.0.0.1 7", 1, "runs past 65535")]
    [InlineData("1 10.0.0.300 1", 1, "'10.0.0.300' is not an IPv4 or IPv6 address")]
    [InlineData("1 10.1 1", 1, "'10.1' is not an IPv4 or IPv6 address")]
    [InlineData("1 host.example 1", 1, "host name 'host.example' does not resolve")]
    [InlineData("1 under_score 1", 1, "'under_score' is not an IPv4 or IPv6 address or a host name")]
    [InlineData("1 -node 1", 1, "'-node' is not an IPv4 or IPv6 address or a host name")]
    [InlineData("1 010.000.000.001 1", 1, "'010.000.000.001' has an octet with a leading zero ('010')")]
    [InlineData("1 10.0.0.01 1", 1, "'10.0.0.01' has an octet with a leading zero ('01')")]
    [InlineData("1 0x0a.0.0.1 1", 1, "'0x0a.0.0.1' is not an IPv4 or IPv6 address")]
    [InlineData("1 10.0.0.1.5 1", 1, "'10.0.0.1.5' is not an IPv4 or IPv6 address")]
    [InlineData("+1 10.0.0.1 1", 1, "node id '+1' is not a number")]
    [InlineData(" -1 10.0.0.1 1", 1, "node id '-1' is not a number")]
    [InlineData("1 10.0.0.1 +2", 1, "count '+2' is not a number")]
    [InlineData("99999999999 10.0.0.1 1", 1, "node id 99999999999 is outside 1-65535")]
    [InlineData("1 10.0.0.1 99999999999", 1, "range of 99999999999 nodes from id 1 runs past 65535")]
    [InlineData("1 0.0.0.0 1", 1, "'0.0.0.0' is the unspecified address, not a node's address")]
    [InlineData("1 :: 1", 1, "'::' is the unspecified address, not a node's address")]
    [InlineData("1 255.255.255.255 1", 1, "'255.255.255.255' is the broadcast address, not a node's address")]
    [InlineData("1 255.255.255.250 6", 1, "node 6's address 255.255.255.255 is the broadcast address, not a node's address")]
    [InlineData("1 224.0.0.1 1", 1, "'224.0.0.1' is a multicast address, not a node's address")]
    [InlineData("1 239.255.255.250 1", 1, "'239.255.255.250' is a multicast address, not a node's address")]
    [InlineData("1 223.255.255.255 2", 1, "node 2's address 224.0.0.0 is a multicast address, not a node's address")]
    [InlineData("1 ff02::1 1", 1, "'ff02::1' is a multicast address, not a node's address")]
    [InlineData("1 10.0.0.1 1\n1 ALIAS 230.1.2.3", 2, "'230.1.2.3' is a multicast address, not a node's address")]
    [InlineData("1 fd00::1 2", 1, "IPv6 address may only be given with count 1")]
    [InlineData("1 255.255.255.250 7", 1, "overflows 255.255.255.255")]
    [InlineData("1 10.0.0.1 3\n\n3 10.0.1.1 1", 3, "node id 3 is already defined")]
    [InlineData("1 10.0.0.1 3\n5 10.0.0.2 1", 2, "address 10.0.0.2 already belongs to node 2")]
    [InlineData("1 10.0.0.1 1\n1 ALIAS 10.0.0.1", 2, "address 10.0.0.1 already belongs to node 1")]
    [InlineData("1 10.0.0.1 1\n2 ALIAS 10.0.0.9", 2, "ALIAS for node 2, which no earlier line defines")]
    [InlineData("1 10.0.0.1 1\n1 ALIAS bogus", 2, "host name 'bogus' does not resolve")]
    [InlineData("1 everyone 1", 1, "'everyone' resolves to 255.255.255.255, which is the broadcast address, not a node's address")]
    [InlineData("1 10.0.0.1 1\n1 ALIAS group", 2, "'group' resolves to ff05::2, which is a multicast address, not a node's address")]
    public void Bad_lines_are_refused_with_file_line_and_reason(string text, int line, string reason)
    {
        var error = Assert.Throws<MapFileException>(() => ClusterMap.Parse(text, "cluster.map", FakeHosts.Resolve));

        Assert.Equal("cluster.map", error.File);
        Assert.Equal(line, error.Line);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal($"cluster.map:{line}: {error.Reason}", error.Message);
    }

    [Fact]
    public void Canonical_text_collapses_ranges_and_parses_back_to_the_same_map()
    {
        var map = ClusterMap.Parse("""
            3 10.0.0.3 1
            1 10.0.0.1 2
            4 10.0.0.9 1
            5 fd00::1 1
            6 10.0.0.10 2
            1 ALIAS 10.9.9.9
            """, "a.map");

        var text = map.ToText();

        Assert.Equal("1 10.0.0.1 3\n4 10.0.0.9 1\n5 fd00::1 1\n6 10.0.0.10 2\n1 ALIAS 10.9.9.9\n", text);
        var reparsed = ClusterMap.Parse(text, "b.map");
        Assert.True(map.ContentEquals(reparsed));
        Assert.Equal(text, reparsed.ToText());
    }

    [Fact]
    public void Diff_reports_added_removed_and_readdressed_nodes()
    {
        var older = ClusterMap.Parse("1 10.0.0.1 3\n2 ALIAS 10.1.0.2", "old.map");
        var newer = ClusterMap.Parse("1 10.0.0.1 1\n2 10.0.0.2 1\n4 10.0.0.4 1\n3 10.0.0.33 1", "new.map");

        var diff = older.Diff(newer);

        Assert.Equal(new ushort[] { 4 }, diff.Added);
        Assert.Empty(diff.Removed);
        Assert.Equal(new ushort[] { 2, 3 }, diff.Changed);
        var back = newer.Diff(older);
        Assert.Equal(new ushort[] { 4 }, back.Removed);
        Assert.Equal(new ushort[] { 2, 3 }, back.Changed);
        Assert.True(older.Diff(older).IsEmpty);
    }

    [Fact]
    public void Load_reads_a_file_and_names_it_in_errors()
    {
        var path = Path.Combine(Path.GetTempPath(), $"om-map-{Guid.NewGuid():N}.map");
        try
        {
            File.WriteAllText(path, "1 10.0.0.1 2\n2 10.0.0.7 1\n");
            var error = Assert.Throws<MapFileException>(() => ClusterMap.Load(path));
            Assert.Equal($"{path}:2: node id 2 is already defined", error.Message);

            File.WriteAllText(path, "1 10.0.0.1 2\n");
            Assert.Equal(2, ClusterMap.Load(path).Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Crlf_line_endings_and_an_empty_file_are_accepted()
    {
        var map = ClusterMap.Parse("1 10.0.0.1 2\r\n# note\r\n2 ALIAS 10.0.0.9\r\n", "w.map");
        Assert.Equal(2, map.Count);
        Assert.True(map.TryGetNodeByAddress(IPAddress.Parse("10.0.0.9"), out var aliased));
        Assert.Equal(2, aliased.Id);

        var empty = ClusterMap.Parse("# nothing yet\n\n", "e.map");
        Assert.Equal(0, empty.Count);
        Assert.Equal("", empty.ToText());
    }

    [Fact]
    public void Host_names_are_resolved_when_the_map_is_read_and_it_keeps_their_addresses()
    {
        var map = ClusterMap.Parse("1 node1 3\n6 node6.example.org 1\n2 ALIAS gateway\n", "names.map", FakeHosts.Resolve);

        Assert.Equal("1 10.0.0.1 3\n6 fd00::6 1\n2 ALIAS 192.168.0.1\n", map.ToText());
    }

    [Fact]
    public void Localhost_resolves_through_the_system_resolver_to_its_ipv4_address()
    {
        var map = ClusterMap.Parse("1 localhost 1", "local.map");

        Assert.True(map.TryGetNode(1, out var node));
        Assert.Equal(IPAddress.Loopback, node.Address);
    }

    /// <summary>A resolver with a few fixed names: tests must not depend on the machine's DNS.</summary>
    private static class FakeHosts
    {
        private static readonly Dictionary<string, IPAddress> Names = new(StringComparer.OrdinalIgnoreCase)
        {
            ["node1"] = IPAddress.Parse("10.0.0.1"),
            ["node6.example.org"] = IPAddress.Parse("fd00::6"),
            ["gateway"] = IPAddress.Parse("192.168.0.1"),
            ["everyone"] = IPAddress.Broadcast,
            ["group"] = IPAddress.Parse("ff05::2"),
        };

        public static IPAddress? Resolve(string name) => Names.GetValueOrDefault(name);
    }
}
