using System.Text;
using OpenMosix.Daemon.Config;
using OpenMosix.Fuzz.Tests.Engine;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>
/// omd.toml: refusal is a <see cref="ConfigException"/> of one line; an accepted file has every real-valued tunable
/// finite and every time positive or zero (a NaN would pass a range check written as two comparisons).
/// </summary>
public sealed class ConfigTarget : FuzzTarget
{
    public override string Name => "config";
    public override IReadOnlyList<Type> Refusals { get; } = [typeof(ConfigException)];

    public override IReadOnlyList<byte[]> Dictionary { get; } = Mutator.Tokens(
        "[", "]", "[[", "]]", "=", "\"", "'", "\"\"\"", "#", "\n", ".", ",", "{", "}", "nan", "+nan", "-nan", "inf", "-inf",
        "1e400", "-0", "0x7fffffffffffffff", "9223372036854775808", "-9223372036854775808", "true", "1979-05-27T07:32:00Z",
        "\\u0000", "\\n", "[balance]", "[gossip]", "[node]", "[manage]", "users = [\"*\"]", "margin = ", "address = ");

    public override IEnumerable<(string Name, byte[] Data)> Seeds()
    {
        yield return ("example.toml", RepositoryFiles.Read("packaging/omd.toml.example"));
        // As `om lab up` writes it for a node.
        yield return ("lab.toml", Encoding.UTF8.GetBytes(
            "# omd of node 2 in lab fuzz\n[node]\nid = 2\naddress = \"10.77.3.2\"\n[paths]\nmap = \"/run/om-lab/fuzz/openmosix.map\"\n" +
            "key = \"/run/om-lab/fuzz/cluster.key\"\nsocket = \"/run/openmosix/omd.sock\"\nstate_dir = \"/run/om-lab/fuzz/node2/state\"\n" +
            "[gossip]\ninterval_ms = 1000\nsuspect_after_ms = 3000\ndead_after_ms = 6000\n[discovery]\ninterval_ms = 500\n" +
            "forget_after_ms = 4000\n[balance]\nenabled = true\nmargin = 0.2\ncost_factor = 3\n[manage]\nusers = [\"alice\", \"1000\"]\n"));
        yield return ("empty.toml", []);
    }

    public override bool Run(byte[] input)
    {
        var config = OmdConfigLoader.Parse(Encoding.UTF8.GetString(input), "/etc/openmosix/omd.toml");
        var b = config.Balancer;
        double[] reals = [b.Margin, b.CostFactor, b.LinkBytesPerSecond, b.MoveOverheadSeconds, b.MinDemand, b.UsherBelowFreeFraction, b.KeepFreeFraction];
        if (reals.Any(r => !double.IsFinite(r) || r < 0)) throw new PropertyViolation($"a balance tunable is not a finite non-negative number: {string.Join(", ", reals)}");
        return true;
    }
}
