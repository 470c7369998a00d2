using System.Security.Cryptography.X509Certificates;

namespace OpenMosix.Cluster.Security;

/// <summary>
/// The CAs a node trusts: every certificate of its ca.crt (during a rotation the old and the new CA both). Peer
/// certificates are checked against these alone: no system store, no revocation or certificate downloads.
/// </summary>
public sealed class ClusterTrust : IDisposable
{
    private readonly X509Certificate2Collection _cas;

    public ClusterTrust(X509Certificate2Collection cas)
    {
        ArgumentNullException.ThrowIfNull(cas);
        if (cas.Count == 0) throw new CertificateSetupException("no CA certificate to trust");
        _cas = cas;
    }

    public IReadOnlyList<X509Certificate2> Cas => [.. _cas];

    /// <summary>The chain policy of node links: the cluster's CAs as the only roots, nothing fetched from anywhere.</summary>
    public X509ChainPolicy Policy()
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.AddRange(_cas);
        return policy;
    }

    /// <summary>Why <paramref name="certificate"/> is not a node certificate of this cluster, or null when it is one.</summary>
    public string? Verify(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!ClusterCertificates.ServesBothEnds(certificate)) return "its certificate is not for TLS client and server use";
        using var chain = new X509Chain { ChainPolicy = Policy() };
        if (chain.Build(certificate)) return null;
        var problems = chain.ChainStatus.Select(s => s.Status).Aggregate(X509ChainStatusFlags.NoError, (all, one) => all | one);
        if (problems.HasFlag(X509ChainStatusFlags.NotTimeValid))
            return $"its certificate is valid from {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} to " +
                   $"{certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC, not now";
        if (problems.HasFlag(X509ChainStatusFlags.PartialChain) || problems.HasFlag(X509ChainStatusFlags.UntrustedRoot))
            return $"its certificate (issued by \"{certificate.Issuer}\") is not signed by a CA this node trusts";
        var detail = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        return $"its certificate does not verify: {(detail.Length > 0 ? detail : problems.ToString())}";
    }

    public void Dispose()
    {
        foreach (var ca in _cas) ca.Dispose();
    }
}
