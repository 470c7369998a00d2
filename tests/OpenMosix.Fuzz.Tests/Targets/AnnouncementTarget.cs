using System.Net;
using OpenMosix.Cluster.Discovery;
using OpenMosix.Fuzz.Tests.Engine;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>omdiscd's announcement decoder: never throws; an accepted announcement encodes back to its bytes.</summary>
public sealed class AnnouncementTarget : FuzzTarget
{
    public override string Name => "announcement";
    public override IReadOnlyList<Type> Refusals { get; } = [];
    public override IReadOnlyList<byte[]> Dictionary { get; } = [.. ClusterKey.TimeTokens()];

    public override IEnumerable<(string Name, byte[] Data)> Seeds()
    {
        yield return ("ipv4.bin", new Announcement(3, IPAddress.Parse("10.77.1.3"), ClusterKey.Now).Encode(ClusterKey.Key));
        yield return ("ipv6.bin", new Announcement(65535, IPAddress.Parse("fd00::3"), ClusterKey.Now).Encode(ClusterKey.Key));
    }

    public override bool Run(byte[] input)
    {
        if (!Announcement.TryDecode(input, ClusterKey.Key, ClusterKey.Now, ClusterKey.Window, out var announcement, out var reason))
        {
            if (reason.Length == 0) throw new PropertyViolation("a refused announcement gave no reason");
            return false;
        }
        if (!announcement!.Encode(ClusterKey.Key).AsSpan().SequenceEqual(input))
            throw new PropertyViolation("an accepted announcement does not encode back to its bytes");
        return true;
    }

    public override byte[] Mutate(Mutator mutator, byte[] seed, IReadOnlyList<byte[]> corpus)
    {
        ArgumentNullException.ThrowIfNull(mutator);
        var mutated = mutator.Mutate(seed, corpus);
        return mutator.Random.Next(4) == 0 ? mutated : ClusterKey.Resign(mutated, 16);
    }
}
