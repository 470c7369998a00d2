using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using OpenMosix.Cluster.Security;
using OpenMosix.Lab.State;
using OpenMosix.Linux;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Lab;

/// <summary>The files omd reads in a lab: the shared map and key, the lab's CA and each node's certificate, and each node's omd.toml.</summary>
public static class NodeFiles
{
    public const int KeyBytes = 32;
    private const OpenFlags WriteOnlyCreateExclusive = OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Exclusive;

    public static void WriteShared(LabLayout layout, LabState state)
    {
        // Classic map format: node ids 1..N on consecutive addresses from 10.77.K.1, as one range line.
        File.WriteAllText(layout.MapFile,
            $"# openMosix map of lab {state.Name}: node-id address count\n1 {SubnetAllocator.Address(state.Subnet, 1)} {state.Nodes.Count}\n");
        // Created 0600 and exclusive, so the key is never readable by others, not even for a moment.
        using var handle = Descriptors.Open(layout.KeyFile, WriteOnlyCreateExclusive, Convert.ToInt32("600", 8));
        using var key = new FileStream(handle, FileAccess.Write, 0);
        key.Write(RandomNumberGenerator.GetBytes(KeyBytes));
        WriteCertificates(layout, state);
    }

    /// <summary>A CA of the lab's own and a certificate per node for its id and lab address: every lab runs its links over mutual TLS.</summary>
    private static void WriteCertificates(LabLayout layout, LabState state)
    {
        var now = DateTimeOffset.UtcNow;
        using var ca = CertificateAuthority.Init(layout.CaDirectory, now);
        foreach (var node in state.Nodes)
        {
            using var issued = CertificateAuthority.Issue(layout.CaDirectory, (ushort)node.Id, IPAddress.Parse(node.Address),
                layout.NodeTlsDirectory(node.Id), now);
        }
    }

    public static void WriteNodeConfig(LabLayout layout, LabState state, NodeState node) =>
        File.WriteAllText(layout.NodeConfigFile(node.Id), NodeConfig(layout, state, node));

    public static string NodeConfig(LabLayout layout, LabState state, NodeState node)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# omd of node {node.Id} in lab {state.Name}, written by `om lab up`\n");
        text.Append("[node]\n");
        text.Append(CultureInfo.InvariantCulture, $"id = {node.Id}\n");
        text.Append(CultureInfo.InvariantCulture, $"address = \"{node.Address}\"\n");
        text.Append("[paths]\n");
        // With discovery the nodes find each other by multicast, as with omdiscd and no map ("" = none, so that a
        // host's own /etc/openmosix.map never leaks into a lab node).
        text.Append(CultureInfo.InvariantCulture, $"map = \"{(state.Discovery ? "" : layout.MapFile)}\"\n");
        text.Append(CultureInfo.InvariantCulture, $"key = \"{layout.KeyFile}\"\n");
        text.Append(CultureInfo.InvariantCulture, $"tls_dir = \"{layout.NodeTlsDirectory(node.Id)}\"\n");
        text.Append(CultureInfo.InvariantCulture, $"socket = \"{LabLayout.NodeRunDirectory}/{LabLayout.SocketFileName}\"\n");
        // Each node keeps its mosctl switches apart from the host's /var/lib/openmosix and from the other nodes.
        text.Append(CultureInfo.InvariantCulture, $"state_dir = \"{Path.Combine(layout.NodeDirectory(node.Id), "state")}\"\n");
        text.Append("[gossip]\n");
        text.Append("interval_ms = 1000\n");
        text.Append("suspect_after_ms = 3000\n");
        // Dead after 9 s: a 5 s partition (om lab cut, then heal) must end before gossip gives up on the node, counting
        // the round it may have missed before the cut and the one that brings it back (docs/reliability.md).
        text.Append("dead_after_ms = 9000\n");
        // Links hear each other twice a second and give up after 10 s: a 5 s partition is over, TCP's retransmission
        // backing off included, before either end does.
        text.Append("[liveness]\n");
        text.Append("heartbeat_interval_ms = 500\n");
        text.Append("link_timeout_ms = 10000\n");
        text.Append("[checkpoint]\n");
        text.Append(CultureInfo.InvariantCulture, $"interval_ms = {state.CheckpointIntervalMs}\n");
        // A lab is for watching nodes come and go: announce twice a second, forget a node silent for 4 s.
        text.Append("[discovery]\n");
        text.Append("interval_ms = 500\n");
        text.Append("forget_after_ms = 4000\n");
        // A lab is root's cluster on one machine: its tests and the demo move root's processes and nobody's.
        text.Append("[migration]\n");
        text.Append("guest_uids = \"1-4294967294\"\n");
        text.Append("allow_root_guests = true\n");
        if (state.Postcopy is { } postcopy) text.Append(CultureInfo.InvariantCulture, $"postcopy = \"{postcopy}\"\n");
        if (state.PrecopyRounds is { } rounds) text.Append(CultureInfo.InvariantCulture, $"precopy_rounds = {rounds}\n");
        if (state.BandwidthLimit is { } limit) text.Append(CultureInfo.InvariantCulture, $"bandwidth_limit_mib_s = {limit}\n");
        // omd's stop brings its processes home and sends its guests home first: within 8 s, less than the lab's
        // wait for a stopping omd (NodeDaemons.StopGrace), so `om lab restart` loses nothing a drain can save.
        text.Append("[shutdown]\n");
        text.Append(CultureInfo.InvariantCulture, $"drain_timeout_ms = {(int)NodeDaemons.DrainTimeout.TotalMilliseconds}\n");
        text.Append("[balance]\n");
        text.Append(CultureInfo.InvariantCulture, $"enabled = {(state.Balance ? "true" : "false")}\n");
        return text.ToString();
    }
}
