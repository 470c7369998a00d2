using System.Net;
using OpenMosix.Cluster.Discovery;
using OpenMosix.Cluster.Keys;
using OpenMosix.Fuzz.Tests.Engine;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>omdiscd's announcement decoder: never throws, and a refusal always names its reason. Announcements are
/// sealed like gossip, so byte mutations reach the layout and the authentication.</summary>
public sealed class AnnouncementTarget : FuzzTarget
{
    private readonly PacketKeys _keys = ClusterKey.Discovery();

    public override string Name => "announcement";
    public override IReadOnlyList<Type> Refusals { get; } = [];

    public override IEnumerable<(string Name, byte[] Data)> Seeds()
    {
        yield return ("ipv4.bin", new Announcement(3, IPAddress.Parse("10.77.1.3"), ClusterKey.Now).Encode(_keys));
        yield return ("ipv6.bin", new Announcement(65535, IPAddress.Parse("fd00::3"), ClusterKey.Now).Encode(_keys));
    }

    public override bool Run(byte[] input)
    {
        if (Announcement.TryDecode(input, _keys, null, ClusterKey.Now, ClusterKey.Window, out _, out var reason)) return true;
        return reason.Length > 0 ? false : throw new PropertyViolation("a refused announcement gave no reason");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _keys.Dispose();
    }
}
