using System.Buffers.Binary;
using System.Security.Cryptography;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// One direction of a link's record layer (<see cref="LinkKeys"/>): AES-128-GCM under a key and IV expanded from this
/// direction's traffic secret. Each record's nonce is the IV XOR a 64-bit count of the records before it, as in TLS 1.3:
/// both ends count, nothing is sent, so a record that is replayed, reordered, dropped from the middle or taken from
/// another link is opened under the wrong nonce or key and fails authentication. After <c>recordsPerKey</c> records or
/// <c>bytesPerKey</c> bytes both ends step the secret forward (HKDF-Expand of the old one, which is then erased) at the
/// same record, with no message: AES-GCM stays far inside its safe limits however long a link lives, and a key taken
/// from memory later opens nothing sent before it.
/// </summary>
internal sealed class RecordDirection : IDisposable
{
    public const int TagSize = 16;
    public const int SecretSize = 32;
    /// <summary>2^36 bytes = 2^32 AES blocks under one key: the chance of telling it from random stays below 2^-60.</summary>
    public const long DefaultBytesPerKey = 1L << 36;
    public const ulong DefaultRecordsPerKey = 1UL << 32;
    private const int KeySize = 16, NonceSize = 12;
    private static ReadOnlySpan<byte> NextLabel => "omnl next secret"u8;
    private static ReadOnlySpan<byte> KeyLabel => "omnl key"u8;
    private static ReadOnlySpan<byte> IvLabel => "omnl iv"u8;

    private readonly ulong _recordsPerKey;
    private readonly long _bytesPerKey;
    private readonly byte[] _secret = new byte[SecretSize];
    private readonly byte[] _iv = new byte[NonceSize];
    private readonly byte[] _nonce = new byte[NonceSize];
    private AesGcm _aes;
    private ulong _recordsUnderKey;
    private long _bytesUnderKey;

    public RecordDirection(ReadOnlySpan<byte> secret, ulong recordsPerKey = DefaultRecordsPerKey, long bytesPerKey = DefaultBytesPerKey)
    {
        if (secret.Length != SecretSize) throw new ArgumentException($"a traffic secret is {SecretSize} bytes", nameof(secret));
        ArgumentOutOfRangeException.ThrowIfZero(recordsPerKey);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerKey);
        _recordsPerKey = recordsPerKey;
        _bytesPerKey = bytesPerKey;
        secret.CopyTo(_secret);
        _aes = KeyFromSecret();
    }

    /// <summary>Records sealed or opened so far, under every key: the number of the next one.</summary>
    public ulong Records { get; private set; }

    /// <summary>How many times the key was stepped forward.</summary>
    public int Rekeys { get; private set; }

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="ciphertext"/> (the same length; they may be the
    /// same memory) and authenticates it together with <paramref name="header"/>, which travels in clear.</summary>
    public void Seal(ReadOnlySpan<byte> header, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag)
    {
        _aes.Encrypt(NextNonce(), plaintext, ciphertext, tag, header);
        Advance(plaintext.Length);
    }

    /// <summary>Decrypts <paramref name="payload"/> in place; false (and the payload erased) when the record is not the
    /// next one this direction's peer sealed, byte for byte. The link must then close: what follows cannot be trusted.</summary>
    public bool TryOpen(ReadOnlySpan<byte> header, Span<byte> payload, ReadOnlySpan<byte> tag)
    {
        try
        {
            _aes.Decrypt(NextNonce(), payload, tag, payload, header);
        }
        catch (AuthenticationTagMismatchException)
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
        _aes.Dispose();
    }

    private ReadOnlySpan<byte> NextNonce()
    {
        _iv.CopyTo(_nonce);
        var count = BinaryPrimitives.ReadUInt64BigEndian(_nonce.AsSpan(NonceSize - 8)) ^ _recordsUnderKey;
        BinaryPrimitives.WriteUInt64BigEndian(_nonce.AsSpan(NonceSize - 8), count);
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
        _aes.Dispose();
        _aes = KeyFromSecret();
        (_recordsUnderKey, _bytesUnderKey) = (0, 0);
        Rekeys++;
    }

    private AesGcm KeyFromSecret()
    {
        Span<byte> key = stackalloc byte[KeySize];
        HKDF.Expand(HashAlgorithmName.SHA256, _secret, key, KeyLabel);
        HKDF.Expand(HashAlgorithmName.SHA256, _secret, _iv, IvLabel);
        var aes = new AesGcm(key, TagSize);
        CryptographicOperations.ZeroMemory(key);
        return aes;
    }
}
