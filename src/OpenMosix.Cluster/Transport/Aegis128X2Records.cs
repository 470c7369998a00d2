using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using AesNi = System.Runtime.Intrinsics.X86.Aes;
using System.Security.Cryptography;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// AEGIS-128X2 with its 256-bit tag (draft-irtf-cfrg-aegis-aead, "Parallel Modes"): two AEGIS-128L states with
/// distinct contexts stepped side by side, so one update takes 64 bytes where AEGIS-128L takes 32. .NET 10 has no VAES
/// intrinsics, so the two lanes run as two interleaved sets of AES-NI rounds: each AEGIS-128L update is a chain (a
/// round waits for the one before), and two independent chains keep the AES units busy where one leaves them
/// waiting. Written here from the draft's pseudocode and checked against its test vectors (Aegis128X2Tests). Only
/// where the CPU has AES-NI (<see cref="IsSupported"/>); a node without it does not offer it. The key sits in a
/// pinned array (the GC never copies it) and is erased on <see cref="Dispose"/>.
/// </summary>
internal sealed class Aegis128X2Records : RecordAead
{
    public const int KeyBytes = 16;
    public const int NonceBytes = 16;
    private const int Tag = 32;
    /// <summary>The rate R: 256 bits per lane.</summary>
    private const int Rate = 64;

    private readonly byte[] _key = GC.AllocateArray<byte>(KeyBytes, pinned: true);

    public Aegis128X2Records(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyBytes) throw new ArgumentException($"an AEGIS-128X2 key is {KeyBytes} bytes", nameof(key));
        if (!IsSupported) throw new PlatformNotSupportedException("AEGIS-128X2 needs AES-NI");
        key.CopyTo(_key);
    }

    /// <summary>Whether this CPU runs AES rounds in hardware.</summary>
    public static bool IsSupported => AesNi.IsSupported;

    public override int TagSize => Tag;

    public override void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> header, ReadOnlySpan<byte> plaintext, Span<byte> sealedPart)
    {
        if (sealedPart.Length < plaintext.Length + Tag) throw new ArgumentException("no room for the tag", nameof(sealedPart));
        var s = Init(nonce);
        Absorb(ref s, header);
        ref var source = ref MemoryMarshal.GetReference(plaintext);
        ref var target = ref MemoryMarshal.GetReference(sealedPart);
        var whole = plaintext.Length - plaintext.Length % Rate;
        Blocks(ref s, ref source, ref target, (nuint)whole, opening: false);
        if (whole < plaintext.Length)
        {
            // The last block zero-padded; only its first bytes go out.
            Span<byte> block = stackalloc byte[Rate];
            block.Clear();
            plaintext[whole..].CopyTo(block);
            var t0 = Lanes.From(block);
            var t1 = Lanes.From(block[32..]);
            var z0 = s.S6 ^ s.S1 ^ (s.S2 & s.S3);
            var z1 = s.S2 ^ s.S5 ^ (s.S6 & s.S7);
            Update(ref s, t0, t1);
            (t0 ^ z0).CopyTo(block);
            (t1 ^ z1).CopyTo(block[32..]);
            block[..(plaintext.Length - whole)].CopyTo(sealedPart[whole..]);
            CryptographicOperations.ZeroMemory(block);
        }
        Finalize(ref s, header.Length, plaintext.Length, sealedPart.Slice(plaintext.Length, Tag));
    }

    public override bool TryOpen(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> header, ReadOnlySpan<byte> sealedPart, Span<byte> plaintext)
    {
        if (sealedPart.Length < plaintext.Length + Tag) throw new ArgumentException("no room for the tag", nameof(sealedPart));
        var s = Init(nonce);
        Absorb(ref s, header);
        ref var source = ref MemoryMarshal.GetReference(sealedPart);
        ref var target = ref MemoryMarshal.GetReference(plaintext);
        var whole = plaintext.Length - plaintext.Length % Rate;
        Blocks(ref s, ref source, ref target, (nuint)whole, opening: true);
        Span<byte> expected = stackalloc byte[Tag];
        if (whole < plaintext.Length)
        {
            var tail = plaintext.Length - whole;
            Span<byte> block = stackalloc byte[Rate];
            block.Clear();
            sealedPart.Slice(whole, tail).CopyTo(block);
            var z0 = s.S6 ^ s.S1 ^ (s.S2 & s.S3);
            var z1 = s.S2 ^ s.S5 ^ (s.S6 & s.S7);
            (Lanes.From(block) ^ z0).CopyTo(block);
            (Lanes.From(block[32..]) ^ z1).CopyTo(block[32..]);
            // DecPartial: the state takes the plaintext zero-padded, not the keystream's tail.
            block[tail..].Clear();
            Update(ref s, Lanes.From(block), Lanes.From(block[32..]));
            block[..tail].CopyTo(plaintext[whole..]);
            CryptographicOperations.ZeroMemory(block);
        }
        Finalize(ref s, header.Length, plaintext.Length, expected);
        var good = CryptographicOperations.FixedTimeEquals(expected, sealedPart.Slice(plaintext.Length, Tag));
        CryptographicOperations.ZeroMemory(expected);
        return good;
    }

    public override void Dispose() => CryptographicOperations.ZeroMemory(_key);

    /// <summary>The eight blocks of both lanes' states: lane 0 in the lower 128 bits of each, lane 1 in the upper.</summary>
    private struct State
    {
        public Lanes S0, S1, S2, S3, S4, S5, S6, S7;
    }

    /// <summary>One block of each lane: what a 256-bit register would hold.</summary>
    private struct Lanes(Vector128<byte> a, Vector128<byte> b)
    {
        public Vector128<byte> A = a, B = b;

        public static Lanes operator ^(Lanes x, Lanes y) => new(x.A ^ y.A, x.B ^ y.B);
        public static Lanes operator &(Lanes x, Lanes y) => new(x.A & y.A, x.B & y.B);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes Load(ref byte at, nuint offset) =>
            new(Vector128.LoadUnsafe(ref at, offset), Vector128.LoadUnsafe(ref at, offset + 16));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Store(ref byte at, nuint offset)
        {
            A.StoreUnsafe(ref at, offset);
            B.StoreUnsafe(ref at, offset + 16);
        }

        public static Lanes From(ReadOnlySpan<byte> bytes) => new(Vector128.Create(bytes), Vector128.Create(bytes[16..]));

        public readonly void CopyTo(Span<byte> bytes)
        {
            A.CopyTo(bytes);
            B.CopyTo(bytes[16..]);
        }

        /// <summary>An AES round of each lane (AESENC), keyed by the other's lane.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes Round(Lanes value, Lanes key) => new(AesNi.Encrypt(value.A, key.A), AesNi.Encrypt(value.B, key.B));
    }

    /// <summary>
    /// The whole 64-byte blocks of a record, sealed (Enc) or opened (Dec), with every block of both lanes' states in a
    /// register of its own (AVX-512 gives 32): the update written out here once, as the JIT left the struct's fields in
    /// memory between the rounds (7 GB/s against 16 for libsodium's AEGIS-128L; bench/aead). Each block is loaded
    /// before it is stored, so sealing in place works.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Blocks(ref State s, ref byte source, ref byte target, nuint length, bool opening)
    {
        var (a0, a1, a2, a3, a4, a5, a6, a7) = (s.S0.A, s.S1.A, s.S2.A, s.S3.A, s.S4.A, s.S5.A, s.S6.A, s.S7.A);
        var (b0, b1, b2, b3, b4, b5, b6, b7) = (s.S0.B, s.S1.B, s.S2.B, s.S3.B, s.S4.B, s.S5.B, s.S6.B, s.S7.B);
        for (nuint i = 0; i < length; i += Rate)
        {
            var za0 = a6 ^ a1 ^ (a2 & a3);
            var zb0 = b6 ^ b1 ^ (b2 & b3);
            var za1 = a2 ^ a5 ^ (a6 & a7);
            var zb1 = b2 ^ b5 ^ (b6 & b7);
            var ia0 = Vector128.LoadUnsafe(ref source, i);
            var ib0 = Vector128.LoadUnsafe(ref source, i + 16);
            var ia1 = Vector128.LoadUnsafe(ref source, i + 32);
            var ib1 = Vector128.LoadUnsafe(ref source, i + 48);
            var oa0 = ia0 ^ za0;
            var ob0 = ib0 ^ zb0;
            var oa1 = ia1 ^ za1;
            var ob1 = ib1 ^ zb1;
            // The state takes the plaintext: the input when sealing, the output when opening.
            var (ma0, mb0, ma1, mb1) = opening ? (oa0, ob0, oa1, ob1) : (ia0, ib0, ia1, ib1);
            var (la, lb) = (a7, b7);
            a7 = AesNi.Encrypt(a6, a7);
            b7 = AesNi.Encrypt(b6, b7);
            a6 = AesNi.Encrypt(a5, a6);
            b6 = AesNi.Encrypt(b5, b6);
            a5 = AesNi.Encrypt(a4, a5);
            b5 = AesNi.Encrypt(b4, b5);
            a4 = AesNi.Encrypt(a3, a4 ^ ma1);
            b4 = AesNi.Encrypt(b3, b4 ^ mb1);
            a3 = AesNi.Encrypt(a2, a3);
            b3 = AesNi.Encrypt(b2, b3);
            a2 = AesNi.Encrypt(a1, a2);
            b2 = AesNi.Encrypt(b1, b2);
            a1 = AesNi.Encrypt(a0, a1);
            b1 = AesNi.Encrypt(b0, b1);
            a0 = AesNi.Encrypt(la, a0 ^ ma0);
            b0 = AesNi.Encrypt(lb, b0 ^ mb0);
            oa0.StoreUnsafe(ref target, i);
            ob0.StoreUnsafe(ref target, i + 16);
            oa1.StoreUnsafe(ref target, i + 32);
            ob1.StoreUnsafe(ref target, i + 48);
        }
        (s.S0, s.S1, s.S2, s.S3) = (new(a0, b0), new(a1, b1), new(a2, b2), new(a3, b3));
        (s.S4, s.S5, s.S6, s.S7) = (new(a4, b4), new(a5, b5), new(a6, b6), new(a7, b7));
    }

    private State Init(ReadOnlySpan<byte> nonce)
    {
        if (nonce.Length != NonceBytes) throw new ArgumentException($"an AEGIS-128X2 nonce is {NonceBytes} bytes", nameof(nonce));
        var key = Both(Vector128.Create<byte>(_key));
        var iv = Both(Vector128.Create<byte>(nonce));
        var c0 = Both(Vector128.Create((byte)0x00, 0x01, 0x01, 0x02, 0x03, 0x05, 0x08, 0x0d, 0x15, 0x22, 0x37, 0x59, 0x90, 0xe9, 0x79, 0x62));
        var c1 = Both(Vector128.Create((byte)0xdb, 0x3d, 0x18, 0x55, 0x6d, 0xc2, 0x2f, 0xf1, 0x20, 0x11, 0x31, 0x42, 0x73, 0xb5, 0x28, 0xdd));
        // ctx[i]: the lane's index, then the highest index (1), then zeros.
        var context = new Lanes(Vector128.Create((byte)0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            Vector128.Create((byte)1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        var s = new State { S0 = key ^ iv, S1 = c1, S2 = c0, S3 = c1, S4 = key ^ iv, S5 = key ^ c0, S6 = key ^ c1, S7 = key ^ c0 };
        for (var round = 0; round < 10; round++)
        {
            s.S3 ^= context;
            s.S7 ^= context;
            Update(ref s, iv, key);
        }
        return s;
    }

    /// <summary>Associated data (the frame header), in zero-padded blocks of 64 bytes.</summary>
    private static void Absorb(ref State s, ReadOnlySpan<byte> data)
    {
        Span<byte> block = stackalloc byte[Rate];
        for (var at = 0; at < data.Length; at += Rate)
        {
            var piece = data[at..Math.Min(data.Length, at + Rate)];
            block.Clear();
            piece.CopyTo(block);
            Update(ref s, Lanes.From(block), Lanes.From(block[32..]));
        }
    }

    private static void Finalize(ref State s, int dataBytes, int messageBytes, Span<byte> tag)
    {
        var lengths = Vector128.Create((ulong)dataBytes * 8, (ulong)messageBytes * 8).AsByte();
        var t = s.S2 ^ Both(lengths);
        for (var round = 0; round < 7; round++) Update(ref s, t, t);
        var first = s.S0 ^ s.S1 ^ s.S2 ^ s.S3;
        var second = s.S4 ^ s.S5 ^ s.S6 ^ s.S7;
        (first.A ^ first.B).CopyTo(tag);
        (second.A ^ second.B).CopyTo(tag[16..]);
    }

    /// <summary>One round of both lanes: each block becomes an AES round of the one before it, keyed by itself (the
    /// first and fifth with the message mixed in).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(ref State s, Lanes m0, Lanes m1)
    {
        var last = s.S7;
        s.S7 = Lanes.Round(s.S6, s.S7);
        s.S6 = Lanes.Round(s.S5, s.S6);
        s.S5 = Lanes.Round(s.S4, s.S5);
        s.S4 = Lanes.Round(s.S3, s.S4 ^ m1);
        s.S3 = Lanes.Round(s.S2, s.S3);
        s.S2 = Lanes.Round(s.S1, s.S2);
        s.S1 = Lanes.Round(s.S0, s.S1);
        s.S0 = Lanes.Round(last, s.S0 ^ m0);
    }

    private static Lanes Both(Vector128<byte> block) => new(block, block);
}
