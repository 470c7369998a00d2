using System.Security.Cryptography;
using NSec.Cryptography;

namespace OpenMosix.Cluster.Transport;

/// <summary>One key of one direction (<see cref="RecordDirection"/>) under the link's cipher. A record's sealed part is
/// the ciphertext, as long as the plaintext, followed by the tag.</summary>
internal abstract class RecordAead : IDisposable
{
    public abstract int TagSize { get; }

    /// <summary>Encrypts <paramref name="plaintext"/> into the start of <paramref name="sealedPart"/> (which may begin at
    /// the same memory) and writes the tag after it, authenticating <paramref name="header"/> too.</summary>
    public abstract void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> header, ReadOnlySpan<byte> plaintext, Span<byte> sealedPart);

    /// <summary>Decrypts into <paramref name="plaintext"/> (which may begin at the same memory as <paramref name="sealedPart"/>);
    /// false when the record does not authenticate, and <paramref name="plaintext"/> is then not to be used.</summary>
    public abstract bool TryOpen(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> header, ReadOnlySpan<byte> sealedPart, Span<byte> plaintext);

    public abstract void Dispose();
}

/// <summary>AES-128-GCM of the system OpenSSL (through .NET): every node has it.</summary>
internal sealed class GcmRecords(ReadOnlySpan<byte> key) : RecordAead
{
    private readonly AesGcm _aes = new(key, 16);

    public override int TagSize => 16;

    public override void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> header, ReadOnlySpan<byte> plaintext, Span<byte> sealedPart) =>
        _aes.Encrypt(nonce, plaintext, sealedPart[..plaintext.Length], sealedPart[plaintext.Length..], header);

    public override bool TryOpen(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> header, ReadOnlySpan<byte> sealedPart, Span<byte> plaintext)
    {
        try
        {
            _aes.Decrypt(nonce, sealedPart[..plaintext.Length], sealedPart[plaintext.Length..], plaintext, header);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public override void Dispose() => _aes.Dispose();
}

/// <summary>AEGIS-128L or AEGIS-256 of libsodium (through NSec), with its 32-byte tag. The key lives in libsodium's
/// guarded memory and is erased with it.</summary>
internal sealed class SodiumRecords(AeadAlgorithm algorithm, ReadOnlySpan<byte> key) : RecordAead
{
    private readonly Key _key = Key.Import(algorithm, key, KeyBlobFormat.RawSymmetricKey);

    public override int TagSize => algorithm.TagSize;

    public override void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> header, ReadOnlySpan<byte> plaintext, Span<byte> sealedPart) =>
        algorithm.Encrypt(_key, nonce, header, plaintext, sealedPart[..(plaintext.Length + algorithm.TagSize)]);

    public override bool TryOpen(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> header, ReadOnlySpan<byte> sealedPart, Span<byte> plaintext) =>
        algorithm.Decrypt(_key, nonce, header, sealedPart[..(plaintext.Length + algorithm.TagSize)], plaintext);

    public override void Dispose() => _key.Dispose();
}
