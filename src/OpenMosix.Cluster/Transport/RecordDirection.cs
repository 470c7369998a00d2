using System.Buffers.Binary;
using System.Security.Cryptography;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// One direction of a link's record layer (<see cref="LinkKeys"/>): the link's cipher (<see cref="RecordCipher"/>) under a
/// key and IV expanded from this direction's traffic secret, each as long as that cipher's key and nonce (AES-128-GCM 16
/// and 12 bytes, AEGIS-128L 16 and 16, AEGIS-256 32 and 32). Each record's nonce is the IV XOR a 64-bit count of the
/// records before it (in its last 8 bytes), as in TLS 1.3: both ends count, nothing is sent, so a record that is
/// replayed, reordered, dropped from the middle or taken from another link is opened under the wrong nonce or key and
/// fails authentication. After <c>recordsPerKey</c> records or <c>bytesPerKey</c> bytes both ends step the secret forward
/// (HKDF-Expand of the old one, which is then erased) at the same record, with no message: AES-GCM stays far inside its
/// safe limits however long a link lives (AEGIS, whose limits are far wider, rekeys alike), and a key taken from memory
/// later opens nothing sent before it.
/// </summary>
internal sealed class RecordDirection : IDisposable
{
    public const int SecretSize = 32;
    /// <summary>2^36 bytes = 2^32 AES blocks under one key: the chance of telling it from random stays below 2^-60.</summary>
    public const long DefaultBytesPerKey = 1L << 36;
    public const ulong DefaultRecordsPerKey = 1UL << 32;
    private static ReadOnlySpan<byte> NextLabel => "omnl next secret"u8;
    private static ReadOnlySpan<byte> KeyLabel => "omnl key"u8;
    private static ReadOnlySpan<byte> IvLabel => "omnl iv"u8;

    private readonly ulong _recordsPerKey;
    private readonly long _bytesPerKey;
    private readonly byte[] _secret = new byte[SecretSize];
    private readonly byte[] _iv, _nonce;
    private RecordAead _aead;
    private ulong _recordsUnderKey;
    private long _bytesUnderKey;

    public RecordDirection(ReadOnlySpan<byte> secret, RecordCipher cipher = RecordCipher.Aes128Gcm, ulong recordsPerKey = DefaultRecordsPerKey,
        long bytesPerKey = DefaultBytesPerKey)
    {
        if (secret.Length != SecretSize) throw new ArgumentException($"a traffic secret is {SecretSize} bytes", nameof(secret));
        ArgumentOutOfRangeException.ThrowIfZero(recordsPerKey);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerKey);
        _recordsPerKey = recordsPerKey;
        _bytesPerKey = bytesPerKey;
        Cipher = cipher;
        _iv = new byte[RecordCiphers.NonceSize(cipher)];
        _nonce = new byte[_iv.Length];
        secret.CopyTo(_secret);
        _aead = KeyFromSecret();
    }

    public RecordCipher Cipher { get; }

    /// <summary>The bytes each record carries after its payload: 16 for AES-GCM, 32 for AEGIS.</summary>
    public int TagSize => _aead.TagSize;

    /// <summary>Records sealed or opened so far, under every key: the number of the next one.</summary>
    public ulong Records { get; private set; }

    /// <summary>How many times the key was stepped forward.</summary>
    public int Rekeys { get; private set; }

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="sealedPart"/> (the ciphertext, then the tag:
    /// <see cref="TagSize"/> bytes longer; they may not overlap) and authenticates it together with
    /// <paramref name="header"/>, which travels in clear.</summary>
    public void Seal(ReadOnlySpan<byte> header, ReadOnlySpan<byte> plaintext, Span<byte> sealedPart)
    {
        if (sealedPart.Length != plaintext.Length + TagSize) throw new ArgumentException($"a sealed record is its payload and a {TagSize}-byte tag");
        _aead.Seal(NextNonce(), header, plaintext, sealedPart);
        Advance(plaintext.Length);
    }

    /// <summary>Decrypts <paramref name="sealedPart"/> (ciphertext and tag) into <paramref name="payload"/> (which may
    /// begin at the same memory, or not overlap it at all); false (and the
    /// payload erased) when the record is not the next one this direction's peer sealed, byte for byte. The link must then
    /// close: what follows cannot be trusted.</summary>
    public bool TryOpen(ReadOnlySpan<byte> header, ReadOnlySpan<byte> sealedPart, Span<byte> payload)
    {
        if (sealedPart.Length != payload.Length + TagSize) throw new ArgumentException($"a sealed record is its payload and a {TagSize}-byte tag");
        if (!_aead.TryOpen(NextNonce(), header, sealedPart, payload))
        {
            CryptographicOperations.ZeroMemory(payload);
            return false;
        }
        Advance(payload.Length);
        return true;
    }

    /// <summary>Erases the secret and frees the key. The link closes its socket first, so that a record sealed meanwhile by
    /// a sender that raced the close never leaves.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_secret);
        _aead.Dispose();
    }

    private ReadOnlySpan<byte> NextNonce()
    {
        _iv.CopyTo(_nonce);
        var count = BinaryPrimitives.ReadUInt64BigEndian(_nonce.AsSpan(_nonce.Length - 8)) ^ _recordsUnderKey;
        BinaryPrimitives.WriteUInt64BigEndian(_nonce.AsSpan(_nonce.Length - 8), count);
        return _nonce;
    }

    private void Advance(int bytes)
    {
        Records++;
        _recordsUnderKey++;
        _bytesUnderKey += bytes;
        if (_recordsUnderKey < _recordsPerKey && _bytesUnderKey < _bytesPerKey) return;
        Span<byte> next = stackalloc byte[SecretSize];
        HKDF.Expand(HashAlgorithmName.SHA256, _secret, next, NextLabel);
        next.CopyTo(_secret);
        CryptographicOperations.ZeroMemory(next);
        _aead.Dispose();
        _aead = KeyFromSecret();
        (_recordsUnderKey, _bytesUnderKey) = (0, 0);
        Rekeys++;
    }

    private RecordAead KeyFromSecret()
    {
        Span<byte> key = stackalloc byte[RecordCiphers.KeySize(Cipher)];
        HKDF.Expand(HashAlgorithmName.SHA256, _secret, key, KeyLabel);
        HKDF.Expand(HashAlgorithmName.SHA256, _secret, _iv, IvLabel);
        var aead = RecordCiphers.Create(Cipher, key);
        CryptographicOperations.ZeroMemory(key);
        return aead;
    }
}
