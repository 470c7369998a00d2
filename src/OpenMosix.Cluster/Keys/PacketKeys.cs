using System.Security.Cryptography;
using System.Text;

namespace OpenMosix.Cluster.Keys;

/// <summary>
/// AES-256-GCM under the keyring, for one kind of packet. Each kind gets its own subkeys (HKDF-SHA256 of the ring's
/// secret with the kind's name), so gossip, discovery and the link handshake never share a key and their nonce
/// spaces cannot collide. Not thread-safe (one AesGcm per key id is kept); every user drives it from one lock.
/// </summary>
public sealed class PacketKeys : IDisposable
{
    public const int NonceSize = 12;
    public const int TagSize = 16;

    private readonly Dictionary<ushort, AesGcm> _ciphers = [];

    public PacketKeys(Keyring ring, string purpose)
    {
        ArgumentNullException.ThrowIfNull(ring);
        Ring = ring;
        var info = Encoding.ASCII.GetBytes($"openmosix {purpose}");
        foreach (var secret in ring.Secrets)
            _ciphers[secret.Id] = new AesGcm(HKDF.DeriveKey(HashAlgorithmName.SHA256, [.. secret.Secret], 32, [], info), TagSize);
    }

    public static PacketKeys ForGossip(Keyring ring) => new(ring, "gossip v2");

    public static PacketKeys ForDiscovery(Keyring ring) => new(ring, "discovery v2");

    public Keyring Ring { get; }

    public bool Knows(ushort keyId) => _ciphers.ContainsKey(keyId);

    /// <summary>The id of the key to send under at <paramref name="now"/>.</summary>
    public ushort SendingKeyId(DateTimeOffset now) => Ring.SendingAt(now).Id;

    public void Seal(ushort keyId, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext,
        Span<byte> tag, ReadOnlySpan<byte> associatedData) =>
        _ciphers[keyId].Encrypt(nonce, plaintext, ciphertext, tag, associatedData);

    /// <summary>Decrypts and authenticates; false for an unknown key or any tampering.</summary>
    public bool TryOpen(ushort keyId, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag,
        Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        if (!_ciphers.TryGetValue(keyId, out var cipher))
            return false;
        try
        {
            cipher.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        foreach (var cipher in _ciphers.Values)
            cipher.Dispose();
        _ciphers.Clear();
    }
}
