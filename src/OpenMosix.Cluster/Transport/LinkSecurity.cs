using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using OpenMosix.Cluster.Security;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// What node links need to authenticate both ends: this node's certificate, the cluster CAs, and the map, so that a
/// peer is believed only when its certificate chains to a trusted CA, names the node it claims (or the node dialled),
/// and that node's address in the map is both the address the connection comes from and the one in the certificate.
/// </summary>
public sealed class LinkSecurity(NodeCredentials credentials, Func<ushort, IPAddress?> addressOf)
{
    private readonly Func<ushort, IPAddress?> _addressOf = addressOf;
    // AES-128-GCM first: the suite every TLS 1.3 peer has, and the fastest of them with AES-NI (bench/link).
    private static readonly CipherSuitesPolicy? Suites = OperatingSystem.IsWindows()
        ? null
        : new([TlsCipherSuite.TLS_AES_128_GCM_SHA256, TlsCipherSuite.TLS_AES_256_GCM_SHA384]);
    private readonly SslStreamCertificateContext _own = SslStreamCertificateContext.Create(credentials.Certificate, null, offline: true);

    public NodeCredentials Credentials { get; } = credentials;

    private readonly IReadOnlyList<RecordCipher> _order = [.. RecordCiphers.Preference.Where(c => (RecordCiphers.Supported & c) != 0)];

    /// <summary>The record ciphers this node offers in its hello, in the order it chooses by on the links it accepts
    /// (omd.toml link.record_ciphers; <see cref="RecordCiphers.Choose(IReadOnlyList{RecordCipher}, RecordCipher)"/>): by
    /// default every one this process can run, fastest first.</summary>
    public IReadOnlyList<RecordCipher> CipherOrder { get => _order; init => _order = [.. value]; }

    /// <summary>The same ciphers as a set; set alone, in <see cref="RecordCiphers.Preference"/>'s order.</summary>
    public RecordCipher Ciphers
    {
        get => RecordCiphers.Set(_order);
        init => _order = [.. RecordCiphers.Preference.Where(c => (value & c) != 0)];
    }

    /// <summary>The node protocol versions this node says it speaks in its hello: <see cref="ProtocolRange.Current"/>, or
    /// an older range a test gives it (omd.toml link.protocol_versions) to stand for a node of an older version.</summary>
    public ProtocolRange Versions { get; init; } = ProtocolRange.Current;

    /// <summary>Told of the versions each peer says it speaks, from every hello read (a refused link's too), so that
    /// `om status` can show them.</summary>
    public Action<ushort, ProtocolRange>? VersionsHeard { get; init; }

    /// <summary>The address links to other nodes leave from (this node's address in the map), or null for the kernel's choice.</summary>
    public Func<IPAddress?> LocalAddress { get; init; } = () => null;

    internal SslClientAuthenticationOptions ClientOptions(PeerCheck check) => new()
    {
        TargetHost = NodeNames.CommonName(check.Expected ?? 0),
        ClientCertificateContext = _own,
        EnabledSslProtocols = SslProtocols.Tls13,
        CipherSuitesPolicy = Suites,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        CertificateChainPolicy = Credentials.Trust.Policy(),
        RemoteCertificateValidationCallback = (_, certificate, _, _) => check.Accepts(certificate as X509Certificate2),
    };

    internal SslServerAuthenticationOptions ServerOptions(PeerCheck check) => new()
    {
        ServerCertificateContext = _own,
        ClientCertificateRequired = true,
        EnabledSslProtocols = SslProtocols.Tls13,
        CipherSuitesPolicy = Suites,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        CertificateChainPolicy = Credentials.Trust.Policy(),
        RemoteCertificateValidationCallback = (_, certificate, _, _) => check.Accepts(certificate as X509Certificate2),
    };

    internal PeerCheck Check(IPEndPoint remote, ushort? expected) => new(this, remote, expected);

    /// <summary>
    /// The checks of one peer's certificate, made inside the TLS handshake; <see cref="Problem"/> keeps the first
    /// reason for refusal, so that the link's one log line says what was wrong rather than that TLS failed.
    /// </summary>
    internal sealed class PeerCheck(LinkSecurity security, IPEndPoint remote, ushort? expected)
    {
        public ushort? Expected { get; } = expected;
        /// <summary>The node the peer's certificate names, once it passed.</summary>
        public ushort Node { get; private set; }
        public string? Problem { get; private set; }

        public bool Accepts(X509Certificate2? certificate)
        {
            Problem = certificate is null ? "it presented no certificate"
                : Examine(certificate) is { } problem ? $"{NodeNames.Describe(certificate)}: {problem}" : null;
            return Problem is null;
        }

        private string? Examine(X509Certificate2 certificate)
        {
            if (security.Credentials.Trust.Verify(certificate) is { } untrusted) return untrusted;
            if (NodeNames.NodeOf(certificate) is not { } node)
                return $"its certificate \"{certificate.Subject}\" names no openMosix node";
            if (Expected is { } wanted && node != wanted)
                return Invariant($"its certificate is for node {node}, not node {wanted}");
            var address = Normal(remote.Address);
            if (security._addressOf(node) is not { } mapped)
                return Invariant($"its certificate is for node {node}, which is not in the map");
            if (!Normal(mapped).Equals(address))
                return Invariant($"it connects from {address}, but node {node} is at {mapped} in the map");
            if (!NodeNames.AddressesOf(certificate).Select(Normal).Contains(address))
                return Invariant($"its certificate for node {node} is bound to {string.Join(", ", NodeNames.AddressesOf(certificate))}, not to {address}");
            Node = node;
            return null;
        }
    }

    private static IPAddress Normal(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
