using System.Formats.Asn1;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace OpenMosix.Cluster.Gossip.Origins;

/// <summary>
/// The node id a cluster certificate names: its subject alternative name URI <c>urn:openmosix:node:N</c>, or else
/// its common name <c>openmosix-node-N</c> (the layout `om ca issue` writes, docs/gossip.md).
/// </summary>
public static class NodeCertificate
{
    private const string UriPrefix = "urn:openmosix:node:";
    private const string NamePrefix = "openmosix-node-";
    private const string SubjectAlternativeNameOid = "2.5.29.17";

    public static ushort? NodeIdOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        foreach (var uri in SubjectUris(certificate))
            if (uri.StartsWith(UriPrefix, StringComparison.Ordinal))
                return ParseId(uri[UriPrefix.Length..]);
        var name = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return name.StartsWith(NamePrefix, StringComparison.Ordinal) ? ParseId(name[NamePrefix.Length..]) : null;
    }

    private static ushort? ParseId(string text) =>
        ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id != 0 ? id : null;

    private static List<string> SubjectUris(X509Certificate2 certificate)
    {
        var uris = new List<string>();
        if (certificate.Extensions[SubjectAlternativeNameOid] is not { } extension)
            return uris;
        try
        {
            var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
            while (names.HasData)
            {
                if (names.PeekTag() == uriTag)
                    uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, uriTag));
                else
                    names.ReadEncodedValue();
            }
        }
        catch (AsnContentException)
        {
            // A malformed extension names no node; the common name may still.
        }
        return uris;
    }
}
