using System.Formats.Asn1;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace OpenMosix.Cluster.Security;

/// <summary>
/// How a certificate names a node: subject <c>CN=openmosix-node-N</c> for people, and the SAN URI
/// <c>urn:openmosix:node:N</c> plus the node's address as a SAN IP for the checks (the URI alone is authoritative).
/// </summary>
public static class NodeNames
{
    public const string UriPrefix = "urn:openmosix:node:";
    private const string SubjectAlternativeNameOid = "2.5.29.17";
    private static readonly Asn1Tag UriTag = new(TagClass.ContextSpecific, 6);

    public static string CommonName(ushort node) => string.Create(CultureInfo.InvariantCulture, $"openmosix-node-{node}");

    public static Uri Uri(ushort node) => new(string.Create(CultureInfo.InvariantCulture, $"{UriPrefix}{node}"));

    /// <summary>The node id the certificate names, or null when it names none (or more than one).</summary>
    public static ushort? NodeOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ushort? found = null;
        foreach (var uri in Uris(certificate))
        {
            if (!uri.StartsWith(UriPrefix, StringComparison.Ordinal)) continue;
            if (!ushort.TryParse(uri.AsSpan(UriPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var node) || node == 0)
                return null;
            if (found is not null && found != node) return null;
            found = node;
        }
        return found;
    }

    /// <summary>The IP addresses the certificate is bound to (its SAN IP entries).</summary>
    public static IReadOnlyList<IPAddress> AddressesOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(san => san.EnumerateIPAddresses()).ToList();
    }

    /// <summary>A certificate for node N, fit for naming in one log line: "node N" or what else it is.</summary>
    public static string Describe(X509Certificate2 certificate) =>
        NodeOf(certificate) is { } node ? string.Create(CultureInfo.InvariantCulture, $"node {node}") : $"\"{certificate.Subject}\"";

    // .NET enumerates a SAN's DNS names and IPs, not its URIs: read the GeneralNames sequence for the [6] entries.
    private static List<string> Uris(X509Certificate2 certificate)
    {
        var uris = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAlternativeNameOid) continue;
            try
            {
                var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
                while (names.HasData)
                {
                    if (names.PeekTag().HasSameClassAndValue(UriTag)) uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, UriTag));
                    else names.ReadEncodedValue();
                }
            }
            catch (AsnContentException)
            {
                return [];
            }
        }
        return uris;
    }
}
