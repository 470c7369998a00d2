using System.Net;
using System.Text;
using OpenMosix.Cluster.Map;
using OpenMosix.Fuzz.Tests.Engine;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>
/// The map file parser (omd at start, setpe, omdiscd's maps) with a resolver that knows two names: refusal is a
/// <see cref="MapFileException"/>; an accepted map's canonical text parses back to the same map.
/// </summary>
public sealed class MapTarget : FuzzTarget
{
    public override string Name => "map";
    public override IReadOnlyList<Type> Refusals { get; } = [typeof(MapFileException)];

    /// <summary>One line of the format may name 65535 nodes (its count field): such a map is valid, and this target
    /// parses it twice and prints it once (about 68 MiB, found by the fuzzer in CI with seed 1909332180), so a full
    /// map is allowed up to 160 MiB. What bounds it is the format: node ids stop at 65535.</summary>
    public override long? AllocationLimit => 160L << 20;

    public override IReadOnlyList<byte[]> Dictionary { get; } = Mutator.Tokens(
        "ALIAS", "alias", "#", "\n", " ", "\t", "\r\n", "\0", "1", "0", "65535", "65536", "4294967295", "4294967296", "-1",
        "255.255.255.255", "255.255.255.254", "0.0.0.0", "127.0.0.1", "224.0.0.1", "10.0.0.1", "010.0.0.1", "0x7f.1", "1.2.3",
        "::", "::1", "::ffff:10.0.0.1", "fe80::1%eth0", "fd00::1", "[::1]", "node-a", "node-b", "\u00a0", "\u2028", "\u0663");

    public override IEnumerable<(string Name, byte[] Data)> Seeds()
    {
        yield return ("example.map", RepositoryFiles.Read("packaging/openmosix.map.example"));
        yield return ("lab.map", "# openMosix map of lab fuzz: node-id address count\n1 10.77.3.1 4\n"u8.ToArray());
        yield return ("mixed.map", Encoding.UTF8.GetBytes(
            "1 node-a 1\n2 fd00::2 1\n3 10.1.0.3 2   # two nodes\n3 ALIAS node-b\n4\tALIAS\t192.168.9.9\r\n"));
    }

    public override bool Run(byte[] input)
    {
        var map = ClusterMap.Parse(Encoding.UTF8.GetString(input), "fuzz.map", Resolve);
        var again = ClusterMap.Parse(map.ToText(), "canonical.map", Resolve);
        if (!map.ContentEquals(again)) throw new PropertyViolation("an accepted map's canonical text parses to another map");
        return true;
    }

    private static IPAddress? Resolve(string name) => name switch
    {
        "node-a" => IPAddress.Parse("10.1.0.1"),
        "node-b" => IPAddress.Parse("fd00::b"),
        _ => null,
    };
}
