using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OpenMosix.Cluster.Map;

/// <summary>
/// The fields of a map line, read strictly: numbers are plain decimal digits, IPv4 addresses four decimal octets
/// without leading zeros (IPAddress.Parse reads 010.0.0.1 as 8.0.0.1, and accepts shorthand and hex), and an address
/// must be one a node can be reached at. Anything else that looks like a host name is resolved.
/// </summary>
internal static class MapFields
{
    public static ushort NodeId(string field, Func<string, MapFileException> fail)
    {
        if (!IsDigits(field))
            throw fail($"node id '{field}' is not a number");
        if (!uint.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id is 0 or > ClusterMap.MaxNodeId)
            throw fail($"node id {field} is outside 1-{ClusterMap.MaxNodeId}");
        return (ushort)id;
    }

    public static uint Count(string field, ushort firstId, Func<string, MapFileException> fail)
    {
        if (!IsDigits(field))
            throw fail($"count '{field}' is not a number");
        if (!uint.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            throw fail($"range of {field} nodes from id {firstId} runs past {ClusterMap.MaxNodeId}");
        return count;
    }

    /// <summary>An address literal, or a host name given to <paramref name="resolve"/>; either way a usable address.</summary>
    public static IPAddress Address(string field, MapHostResolver resolve, Func<string, MapFileException> fail)
    {
        if (LooksLikeLiteral(field))
            return Usable(Literal(field, fail), $"'{field}'", fail);
        if (!IsHostName(field))
            throw fail($"'{field}' is not an IPv4 or IPv6 address or a host name");
        var resolved = resolve(field) ?? throw fail($"host name '{field}' does not resolve");
        return Usable(Normalise(resolved), $"'{field}' resolves to {resolved}, which", fail);
    }

    /// <summary>Refuses an address no node can have; <paramref name="subject"/> starts the sentence.</summary>
    public static IPAddress Usable(IPAddress address, string subject, Func<string, MapFileException> fail)
    {
        if (Unusable(address) is { } reason)
            throw fail($"{subject} is {reason}, not a node's address");
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
            throw fail($"{subject} carries a scope id, which a map cannot use");
        return address;
    }

    public static IPAddress Normalise(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static string? Unusable(IPAddress address)
    {
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return "the unspecified address";
        if (address.Equals(IPAddress.Broadcast)) return "the broadcast address";
        if (address.IsIPv6Multicast) return "a multicast address";
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> bytes = stackalloc byte[4];
            address.TryWriteBytes(bytes, out _);
            if (bytes[0] >> 4 == 0xE) return "a multicast address";
        }
        return null;
    }

    /// <summary>An IPv6 address has a colon; a dotted name whose last label is all digits can only be meant as IPv4
    /// (no top-level domain is numeric, RFC 1123 2.1), so "10.0.0.300" is a bad address, not a host name.</summary>
    private static bool LooksLikeLiteral(string field) =>
        field.Contains(':', StringComparison.Ordinal) || IsDigits(field[(field.LastIndexOf('.') + 1)..]);

    private static IPAddress Literal(string field, Func<string, MapFileException> fail)
    {
        MapFileException NotAnAddress() => fail($"'{field}' is not an IPv4 or IPv6 address");
        if (field.Contains(':', StringComparison.Ordinal))
            return IPAddress.TryParse(field, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6
                ? Normalise(v6)
                : throw NotAnAddress();
        var octets = field.Split('.');
        if (octets.Length != 4) throw NotAnAddress();
        var bytes = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            var octet = octets[i];
            if (!IsDigits(octet) || octet.Length > 3) throw NotAnAddress();
            if (octet.Length > 1 && octet[0] == '0')
                throw fail($"'{field}' has an octet with a leading zero ('{octet}'), which some tools read as octal; write it without");
            var value = int.Parse(octet, NumberStyles.None, CultureInfo.InvariantCulture);
            bytes[i] = value <= 255 ? (byte)value : throw NotAnAddress();
        }
        return new IPAddress(bytes);
    }

    /// <summary>RFC 1123 host name syntax: dot-separated labels of letters, digits and inner hyphens, 1-63 characters
    /// each, 253 in all.</summary>
    private static bool IsHostName(string field) =>
        field.Length <= 253
        && field.Split('.').All(label => label.Length is >= 1 and <= 63
                                         && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
                                         && label[0] != '-' && label[^1] != '-');

    private static bool IsDigits(string field) => field.Length > 0 && field.All(char.IsAsciiDigit);
}
