using System.Text;
using OpenMosix.Cluster.Keys;

namespace OpenMosix.Cluster.Tests;

public sealed class KeyringTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 4, 0, 0, TimeSpan.Zero);
    private const string Secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    private static Keyring Parse(string text) => KeyringText.Parse(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void A_keyring_survives_formatting_and_parsing()
    {
        var ring = Keyring.Fresh(1, Now).WithFreshSecret(Now, Now.AddMinutes(2));
        var parsed = KeyringText.Parse(Encoding.ASCII.GetBytes(KeyringText.Format(ring)));

        Assert.Equal([1, 2], parsed.Secrets.Select(s => (int)s.Id));
        Assert.Equal(ring.Secrets.Select(s => Convert.ToBase64String(s.Secret.AsSpan())), parsed.Secrets.Select(s => Convert.ToBase64String(s.Secret.AsSpan())));
        Assert.Equal(Now.AddMinutes(2), parsed.Secrets[1].Active);
    }

    [Fact]
    public void A_key_file_of_the_first_format_reads_as_key_0()
    {
        var raw = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var ring = KeyringText.Parse(raw);

        Assert.Equal(0, ring.Secrets.Single().Id);
        Assert.Equal(raw, ring.Secrets[0].Secret);
        Assert.Equal(0, ring.SendingAt(Now).Id);
    }

    [Theory]
    [InlineData("openmosix-keyring 1\n", "the keyring holds no key")]
    [InlineData("openmosix-keyring 1\nkey 1 2026-01-01T00:00:00Z\n", "line 2: expected `key ID CREATED ACTIVE SECRET`")]
    [InlineData("openmosix-keyring 1\n# c\nkey x 2026-01-01T00:00:00Z 2026-01-01T00:00:00Z " + Secret + "\n", "line 3: key id `x` is not a number from 0 to 65535")]
    [InlineData("openmosix-keyring 1\nkey 1 yesterday 2026-01-01T00:00:00Z " + Secret + "\n", "line 2: `yesterday` is not a UTC time like 2026-01-31T12:00:00Z")]
    [InlineData("openmosix-keyring 1\nkey 1 2026-01-01T00:00:00Z 2026-01-01T00:00:00Z !!!\n", "line 2: the secret is not base64")]
    [InlineData("openmosix-keyring 1\nkey 1 2026-01-01T00:00:00Z 2026-01-01T00:00:00Z AAEC\n", "line 2: the secret has 3 bytes, at least 16 are needed")]
    [InlineData("openmosix-keyring 1\nkey 1 2026-01-01T00:00:00Z 2026-01-01T00:00:00Z " + Secret + "\nkey 1 2026-01-01T00:00:00Z 2026-01-01T00:00:00Z " + Secret + "\n", "key id 1 appears twice")]
    public void A_malformed_keyring_is_refused_with_one_line_saying_where(string text, string message)
    {
        var error = Assert.Throws<FormatException>(() => Parse(text));
        Assert.Equal(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_raw_key_shorter_than_16_bytes_is_refused()
    {
        var error = Assert.Throws<FormatException>(() => KeyringText.Parse(new byte[15]));
        Assert.Equal("a cluster key needs at least 16 bytes, this one has 15", error.Message);
    }

    [Fact]
    public void Senders_use_the_newest_key_only_once_it_is_active()
    {
        var ring = Keyring.Fresh(1, Now).WithFreshSecret(Now, Now.AddMinutes(2));

        Assert.Equal(1, ring.SendingAt(Now.AddMinutes(1)).Id);
        Assert.Equal(2, ring.SendingAt(Now.AddMinutes(2)).Id);
        Assert.True(ring.TryGet(2, out _));
    }

    [Fact]
    public void Retiring_drops_old_keys_but_never_the_one_in_use_nor_newer_ones()
    {
        var ring = Keyring.Fresh(1, Now).WithFreshSecret(Now.AddDays(10), Now.AddDays(10)).WithFreshSecret(Now.AddDays(20), Now.AddDays(21));
        var at = Now.AddDays(20).AddHours(1);

        Assert.Equal([2, 3], ring.WithoutSecretsBefore(at.AddDays(-15), at).Secrets.Select(s => (int)s.Id));
        // Everything is older than a minute, but key 2 is still the one sent under and key 3 is not active yet.
        Assert.Equal([2, 3], ring.WithoutSecretsBefore(at.AddMinutes(-1), at).Secrets.Select(s => (int)s.Id));
    }
}
