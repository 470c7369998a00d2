using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Gossip.Origins;
using OpenMosix.Cluster.Keys;
using OpenMosix.TestSupport;

// N nodes gossip in memory, every packet delivered, for R rounds of virtual time (one per second); the process CPU
// time they take, divided by N × R, is what one node spends on gossip per second at the default 1 s interval.
var nodes = Argument("--nodes", 16);
var rounds = Argument("--rounds", 400);
var start = DateTimeOffset.UtcNow;
using var keys = PacketKeys.ForGossip(Keyring.Fresh(1, start.AddDays(-1)));
using var authority = new TestAuthority(start);

Console.WriteLine("codec alone (encode and decode of full 18-entry packets, 3 out and 3 in per node-round):");
var hmac = Measure("HMAC-SHA256 (before)", () => HmacRound(nodes, rounds, start));
var gcm = Measure("AES-256-GCM", () => GcmRound(nodes, rounds, start, keys));
Console.WriteLine($"ratio AES-GCM / HMAC: {gcm / hmac:F2}x");
Console.WriteLine();
Console.WriteLine($"whole gossip nodes ({nodes} in memory, every packet delivered, a load change every 7 rounds):");
var aead = Measure("AES-256-GCM, unsigned", () => NodeRounds(nodes, rounds, start, keys, null));
var origins = Enumerable.Range(1, nodes).Select(id =>
{
    using var own = authority.Issue((ushort)id);
    return new CertificateOriginKeys(own, [authority.Certificate], () => start);
}).ToArray();
var signed = Measure("AES-256-GCM + ECDSA origin signatures", () => NodeRounds(nodes, rounds, start, keys, origins));
foreach (var origin in origins) origin.Dispose();

Console.WriteLine();
Console.WriteLine($"ratio signed / unsigned: {signed / aead:F1}x; signed: {signed / 1e4:F3} % of one core per node at a 1 s interval");
return 0;

double Measure(string name, Func<long> run)
{
    run(); // warm-up: JIT and the chain checks of the first certificates
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var packets = run();
    var spent = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / (nodes * (double)rounds);
    Console.WriteLine($"{name,-40} {spent,8:F1} µs per node-round ({packets / (double)(nodes * rounds):F1} packets in and out)");
    return spent;
}

static long NodeRounds(int count, int rounds, DateTimeOffset start, PacketKeys keys, CertificateOriginKeys[]? origins)
{
    var ids = Enumerable.Range(1, count).Select(i => (ushort)i).ToArray();
    var gossip = ids.Select(id => new GossipNode(Vector(id), ids, keys, new GossipOptions(), new Random(id), start,
        origins?[id - 1])).ToArray();
    long packets = 0;
    for (var round = 0; round < rounds; round++)
    {
        var now = start.AddSeconds(round);
        foreach (var node in gossip)
        {
            node.UpdateSelf(Vector(node.Id, load: round % 7 == node.Id % 7 ? round : 1));
            foreach (var (to, packet) in node.OnTick(now))
            {
                gossip[to - 1].OnPacket(now, packet);
                packets += 2;
            }
        }
    }
    return packets;
}

// The codec of before: the same header and entries, authenticated with a 16-byte HMAC-SHA256 prefix, in clear.
static long HmacRound(int count, int rounds, DateTimeOffset start)
{
    var key = RandomNumberGenerator.GetBytes(32);
    var window = Enumerable.Range(1, GossipCodec.MaxEntries).Select(i => Vector((ushort)i)).ToArray();
    long packets = 0;
    Span<byte> mac = stackalloc byte[32];
    for (var i = 0; i < (long)count * rounds * 3; i++)
    {
        var packet = new byte[25 + window.Length * GossipEntryCodec.Size + 16];
        for (var e = 0; e < window.Length; e++)
            GossipEntryCodec.Write(packet.AsSpan(25 + e * GossipEntryCodec.Size), window[e] with { Version = (ulong)i });
        HMACSHA256.HashData(key, packet.AsSpan(0, packet.Length - 16), mac);
        mac[..16].CopyTo(packet.AsSpan(packet.Length - 16));
        HMACSHA256.HashData(key, packet.AsSpan(0, packet.Length - 16), mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[..16], packet.AsSpan(packet.Length - 16)))
            throw new InvalidOperationException("MAC mismatch");
        for (var e = 0; e < window.Length; e++)
            GossipEntryCodec.TryRead(packet.AsSpan(25 + e * GossipEntryCodec.Size, GossipEntryCodec.Size), out _);
        packets += 2;
    }
    return packets;
}

static long GcmRound(int count, int rounds, DateTimeOffset start, PacketKeys keys)
{
    var window = Enumerable.Range(1, GossipCodec.MaxEntries).Select(i => Vector((ushort)i)).ToArray();
    var guard = new ReplayGuard(TimeSpan.FromSeconds(30), () => start);
    long packets = 0;
    for (var i = 0; i < (long)count * rounds * 3; i++)
    {
        var packet = GossipCodec.Encode(new PacketHeader(1, 1, (ulong)i + 1), start,
            [.. window.Select(v => v with { Version = (ulong)i })], null, [], keys);
        if (!GossipCodec.TryDecode(packet, keys, guard, out _, out _))
            throw new InvalidOperationException("decryption failed");
        packets += 2;
    }
    return packets;
}

static LoadVector Vector(ushort id, double load = 1) => new(id, IPAddress.Parse($"10.0.{id >> 8}.{id & 255}"), NodeState.Alive,
    load, LoadVector.ReferenceSpeed, 4, 40_000, 8UL << 30, 4UL << 30, NodeFlags.None, 0);

int Argument(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
