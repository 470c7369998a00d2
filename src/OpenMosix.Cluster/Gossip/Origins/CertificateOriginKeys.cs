using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenMosix.Cluster.Gossip.Origins;

/// <summary>
/// <see cref="IOriginKeys"/> from X.509: this node's ECDSA P-256 certificate and key, and the cluster CAs. A peer's
/// certificate is accepted when it chains to one of the CAs (and only those: the system's roots mean nothing here),
/// is within its validity, carries a P-256 key and names the node that sent it. Accepted keys are cached by node
/// id; the same certificate again costs a byte comparison, not a chain check.
/// </summary>
public sealed class CertificateOriginKeys : IOriginKeys, IDisposable
{
    private readonly ECDsa _signer;
    private readonly X509Certificate2Collection _authorities;
    private readonly Func<DateTimeOffset> _clock;
    private readonly Dictionary<ushort, Known> _known = [];

    public CertificateOriginKeys(X509Certificate2 own, X509Certificate2Collection authorities, Func<DateTimeOffset> clock)
    {
        ArgumentNullException.ThrowIfNull(own);
        ArgumentNullException.ThrowIfNull(authorities);
        _clock = clock;
        _authorities = authorities;
        _signer = own.GetECDsaPrivateKey() ?? throw new ArgumentException("the node certificate has no ECDSA private key", nameof(own));
        if (_signer.KeySize != 256)
            throw new ArgumentException($"the node key is ECDSA with {_signer.KeySize} bits; P-256 is needed", nameof(own));
        OwnNode = OpenMosix.Cluster.Security.NodeNames.NodeOf(own)
            ?? throw new ArgumentException("the node certificate names no node (SAN urn:openmosix:node:N)", nameof(own));
        if (!IsValid(own, out var reason))
            throw new ArgumentException($"the node certificate is not valid: {reason}", nameof(own));
        OwnCertificate = own.RawData;
        _known[OwnNode] = new Known(own.RawData, own.GetECDsaPublicKey()!, new DateTimeOffset(own.NotAfter));
    }

    public ushort OwnNode { get; }

    public ReadOnlyMemory<byte> OwnCertificate { get; }

    public byte[] Sign(ReadOnlySpan<byte> data) => _signer.SignData(data, HashAlgorithmName.SHA256);

    public bool Learn(ushort node, ReadOnlySpan<byte> certificate)
    {
        if (_known.TryGetValue(node, out var known) && certificate.SequenceEqual(known.Der))
            return known.NotAfter > _clock();
        X509Certificate2 parsed;
        try
        {
            parsed = X509CertificateLoader.LoadCertificate(certificate);
        }
        catch (CryptographicException)
        {
            return false;
        }
        using (parsed)
        {
            if (OpenMosix.Cluster.Security.NodeNames.NodeOf(parsed) != node || !IsValid(parsed, out _) || parsed.GetECDsaPublicKey() is not { KeySize: 256 } key)
                return false;
            if (_known.Remove(node, out var replaced))
                replaced.Key.Dispose();
            _known[node] = new Known(certificate.ToArray(), key, new DateTimeOffset(parsed.NotAfter));
            return true;
        }
    }

    public bool Knows(ushort node) => _known.TryGetValue(node, out var known) && known.NotAfter > _clock();

    public bool Verify(ushort node, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        signature.Length == OriginSignature.Size && Knows(node)
        && _known[node].Key.VerifyData(data, signature, HashAlgorithmName.SHA256);

    public void Dispose()
    {
        _signer.Dispose();
        foreach (var known in _known.Values)
            known.Key.Dispose();
        _known.Clear();
    }

    private bool IsValid(X509Certificate2 certificate, out string reason)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = _clock().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (chain.Build(certificate))
        {
            reason = "";
            return true;
        }
        reason = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct());
        return false;
    }

    private sealed record Known(byte[] Der, ECDsa Key, DateTimeOffset NotAfter);
}
