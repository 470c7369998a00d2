using System.Security.Cryptography;
using OpenMosix.Cluster.Transport;

namespace OpenMosix.Cluster.Tests;

/// <summary>AEGIS-128X2 as written here (<see cref="Aegis128X2Records"/>) against the test vectors of
/// draft-irtf-cfrg-aegis-aead ("AEGIS-128X2 Test Vectors", 256-bit tags), and its refusals.</summary>
public sealed class Aegis128X2Tests
{
    private static readonly byte[] Key = Convert.FromHexString("000102030405060708090a0b0c0d0e0f");
    private static readonly byte[] Nonce = Convert.FromHexString("101112131415161718191a1b1c1d1e1f");

    [Fact]
    public void This_machine_has_VAES_so_that_the_tests_below_run_the_cipher()
    {
        Assert.True(Aegis128X2Records.IsSupported);
    }

    [Fact]
    public void An_empty_message_with_no_associated_data_gets_the_drafts_tag()
    {
        using var aead = new Aegis128X2Records(Key);
        var sealedPart = new byte[32];
        aead.Seal(Nonce, [], [], sealedPart);
        Assert.Equal("b92c71fdbd358b8a4de70b27631ace90cffd9b9cfba82028412bac41b4f53759", Convert.ToHexStringLower(sealedPart));
        Assert.True(aead.TryOpen(Nonce, [], sealedPart, []));
    }

    [Fact]
    public void A_message_of_a_whole_block_and_a_partial_one_seals_and_opens_as_the_draft_says()
    {
        var ad = Convert.FromHexString("0102030401020304");
        var message = Convert.FromHexString(string.Concat(Enumerable.Repeat("04050607", 30)));
        const string ciphertext = "5795544301997f93621b278809d6331b3bfa6f18e90db12c4aa35965b5e98c5f" +
                                  "c6fb4e54bcb6111842c20637252eff747cb3a8f85b37de80919a589fe0f24872" +
                                  "bc926360696739e05520647e390989e1eb5fd42f99678a0276a498f8c454761c" +
                                  "9d6aacb647ad56be62b29c22cd4b5761b38f43d5a5ee062f";
        const string tag = "c471876f9b4978c44f2ae1ce770cdb11a094ee3feca64e7afcd48bfe52c60eca";
        using var aead = new Aegis128X2Records(Key);
        var sealedPart = new byte[message.Length + 32];
        aead.Seal(Nonce, ad, message, sealedPart);
        Assert.Equal(ciphertext + tag, Convert.ToHexStringLower(sealedPart));

        var opened = new byte[message.Length];
        Assert.True(aead.TryOpen(Nonce, ad, sealedPart, opened));
        Assert.Equal(message, opened);

        // Sealed in place (as the draft's layout allows): the same bytes.
        var inPlace = new byte[message.Length + 32];
        message.CopyTo(inPlace, 0);
        aead.Seal(Nonce, ad, inPlace.AsSpan(0, message.Length), inPlace);
        Assert.Equal(sealedPart, inPlace);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1 << 20)]
    public void Any_changed_bit_of_ciphertext_tag_header_or_nonce_is_refused(int size)
    {
        using var aead = new Aegis128X2Records(Key);
        var header = RandomNumberGenerator.GetBytes(5);
        var message = RandomNumberGenerator.GetBytes(size);
        var sealedPart = new byte[size + 32];
        aead.Seal(Nonce, header, message, sealedPart);
        var opened = new byte[size];
        Assert.True(aead.TryOpen(Nonce, header, sealedPart, opened));
        Assert.Equal(message, opened);

        foreach (var at in new[] { 0, size / 2, size + 31 }.Where(at => at < sealedPart.Length).Distinct())
        {
            sealedPart[at] ^= 0x10;
            Assert.False(aead.TryOpen(Nonce, header, sealedPart, opened));
            sealedPart[at] ^= 0x10;
        }
        header[4] ^= 1;
        Assert.False(aead.TryOpen(Nonce, header, sealedPart, opened));
        header[4] ^= 1;
        var otherNonce = (byte[])Nonce.Clone();
        otherNonce[15] ^= 1;
        Assert.False(aead.TryOpen(otherNonce, header, sealedPart, opened));
        using var otherKey = new Aegis128X2Records(RandomNumberGenerator.GetBytes(16));
        Assert.False(otherKey.TryOpen(Nonce, header, sealedPart, opened));
        Assert.True(aead.TryOpen(Nonce, header, sealedPart, opened));
    }
}
