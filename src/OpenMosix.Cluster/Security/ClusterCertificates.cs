using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenMosix.Cluster.Security;

/// <summary>
/// Makes the cluster's certificates, ECDSA P-256 with SHA-256: a CA (10 years, may sign node certificates only) and
/// node certificates (2 years, never past their CA) that name one node id and its address and serve as both TLS
/// client and server, since either end of a node link may have dialled.
/// </summary>
public static class ClusterCertificates
{
    public static readonly TimeSpan CaValidity = TimeSpan.FromDays(3653);
    public static readonly TimeSpan NodeValidity = TimeSpan.FromDays(731);
    /// <summary>Certificates start a little in the past: the clocks of the nodes differ a little.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(10);

    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    /// <summary>
    /// A new CA certificate with its private key. Its name carries the day and a random tag, so that an old and a new
    /// CA trusted side by side during a rotation never share a subject.
    /// </summary>
    public static X509Certificate2 CreateCa(DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var tag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var name = string.Create(CultureInfo.InvariantCulture, $"CN=openmosix cluster CA {now:yyyy-MM-dd} {tag}, O=openMosix.NET");
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var subjectKey = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        request.CertificateExtensions.Add(subjectKey);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(subjectKey));
        return request.CreateSelfSigned(now - ClockSkew, now + CaValidity);
    }

    /// <summary>A certificate for <paramref name="node"/> at <paramref name="address"/>, signed by <paramref name="ca"/> (which must hold its key).</summary>
    public static X509Certificate2 IssueNode(X509Certificate2 ca, ushort node, IPAddress address, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(ca);
        ArgumentNullException.ThrowIfNull(address);
        if (node == 0) throw new ArgumentOutOfRangeException(nameof(node), "node ids start at 1");
        if (!ca.HasPrivateKey) throw new CertificateSetupException($"the CA certificate \"{ca.Subject}\" comes without its key");
        if (ca.NotAfter.ToUniversalTime() <= now.UtcDateTime)
            throw new CertificateSetupException($"the CA \"{ca.Subject}\" expired on {ca.NotAfter.ToUniversalTime():yyyy-MM-dd}");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={NodeNames.CommonName(node)}, O=openMosix.NET", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth, ClientAuth], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(NodeNames.Uri(node));
        names.AddIpAddress(address);
        request.CertificateExtensions.Add(names.Build(false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var notAfter = now + NodeValidity;
        if (notAfter > ca.NotAfter.ToUniversalTime()) notAfter = ca.NotAfter.ToUniversalTime();
        using var issued = request.Create(ca, now - ClockSkew, notAfter, Serial());
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Whether the EKU extension lets the certificate authenticate TLS clients and servers (absent = any use).</summary>
    public static bool ServesBothEnds(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault()?.EnhancedKeyUsages;
        return usages is null || (usages[ServerAuth.Value!] is not null && usages[ClientAuth.Value!] is not null);
    }

    private static byte[] Serial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f; // a positive INTEGER
        serial[0] |= 0x01; // never a leading zero byte
        return serial;
    }
}
