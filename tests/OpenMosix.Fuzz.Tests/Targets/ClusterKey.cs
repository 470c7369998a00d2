using System.Security.Cryptography;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>The key and the clock the cluster targets share: fixed, so the checked-in packets stay valid.</summary>
internal static class ClusterKey
{
    public static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)(i * 7))];
    public static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(30);

    /// <summary>Writes a fresh HMAC-SHA256 prefix of <paramref name="size"/> bytes over all that precedes it: the
    /// mutation then reaches what a key holder (or a compromised node) could send.</summary>
    public static byte[] Resign(byte[] packet, int size)
    {
        if (packet.Length < size) return packet;
        var signed = packet.ToArray();
        HMACSHA256.HashData(Key, signed.AsSpan(0, signed.Length - size)).AsSpan(0, size).CopyTo(signed.AsSpan(signed.Length - size));
        return signed;
    }

    /// <summary>Eight-byte little-endian times around the clock: where a window check overflows.</summary>
    public static IEnumerable<byte[]> TimeTokens()
    {
        var now = Now.ToUnixTimeMilliseconds();
        long[] times = [now, now - 30_000, now + 30_000, long.MinValue + now, long.MaxValue, long.MinValue, now - long.MaxValue];
        return times.Select(BitConverter.GetBytes);
    }
}
