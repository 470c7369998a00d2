using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Config;
using OpenMosix.Daemon.Hosting;

namespace OpenMosix.Daemon.Tests.Config;

/// <summary>omd.toml's link.record_ciphers: which record ciphers a node's links may use, and in what order it chooses.</summary>
public sealed class RecordCiphersConfigTests
{
    private static OmdConfig Parse(string value) => OmdConfigLoader.Parse($"[link]\nrecord_ciphers = {value}\n", "/etc/openmosix/omd.toml");

    [Fact]
    public void By_default_every_cipher_is_offered_fastest_first()
    {
        Assert.Equal([RecordCipher.Aegis128L, RecordCipher.Aegis256, RecordCipher.Aes128Gcm], new OmdConfig().RecordCiphers);
    }

    [Fact]
    public void A_list_restricts_the_ciphers_and_keeps_its_order()
    {
        Assert.Equal([RecordCipher.Aes128Gcm, RecordCipher.Aegis128L], Parse("[\"aes-128-gcm\", \"aegis-128l\"]").RecordCiphers);
        Assert.Equal([RecordCipher.Aegis256], Parse("[\"aegis-256\"]").RecordCiphers);
    }

    [Theory]
    [InlineData("[\"aegis-128l\", \"chacha20-poly1305\"]", "link.record_ciphers: 'chacha20-poly1305' is not a record cipher (known: aegis-128l, aegis-256, aes-128-gcm)")]
    [InlineData("[\"AES-128-GCM\"]", "link.record_ciphers: 'AES-128-GCM' is not a record cipher (known: aegis-128l, aegis-256, aes-128-gcm)")]
    [InlineData("[\"aes-128-gcm\", 7]", "link.record_ciphers: '7' is not a record cipher (known: aegis-128l, aegis-256, aes-128-gcm)")]
    [InlineData("[\"aegis-256\", \"aes-128-gcm\", \"aegis-256\"]", "link.record_ciphers: 'aegis-256' is listed twice")]
    [InlineData("[]", "link.record_ciphers must be a non-empty array of record ciphers, such as [\"aegis-128l\", \"aegis-256\", \"aes-128-gcm\"]")]
    [InlineData("\"aes-128-gcm\"", "link.record_ciphers must be a non-empty array of record ciphers, such as [\"aegis-128l\", \"aegis-256\", \"aes-128-gcm\"]")]
    public void A_bad_list_is_one_line_naming_the_bad_entry(string value, string reason)
    {
        var error = Assert.Throws<ConfigException>(() => Parse(value));
        Assert.Equal($"/etc/openmosix/omd.toml:2: {reason}", error.Message);
    }

    [Fact]
    public void A_node_without_libsodium_offers_what_it_can_run_in_the_configured_order_and_says_what_it_left_out()
    {
        var (offered, leftOut) = LinkSettings.Split([RecordCipher.Aegis256, RecordCipher.Aes128Gcm, RecordCipher.Aegis128L], RecordCipher.Aes128Gcm);
        Assert.Equal([RecordCipher.Aes128Gcm], offered);
        Assert.Equal([RecordCipher.Aegis256, RecordCipher.Aegis128L], leftOut);
        Assert.Empty(LinkSettings.Split([RecordCipher.Aegis128L], RecordCipher.Aes128Gcm).Offered);
    }

    [Fact]
    public void Getlink_shows_the_ciphers_offered_as_omd_toml_writes_them()
    {
        var rows = LinkSettings.Of(Parse("[\"aes-128-gcm\", \"aegis-128l\"]")).Tunables;
        Assert.Equal(["migration.port", "link.record_ciphers", "link.protocol_versions", "liveness.heartbeat_interval_ms", "liveness.link_timeout_ms"],
            rows.Select(r => r.Name));
        Assert.Equal($"\"6-{ProtocolRange.Latest}\"", rows[2].Value);
        Assert.Equal("[\"aes-128-gcm\", \"aegis-128l\"]", rows[1].Value);
    }

    [Theory]
    [InlineData("\"6\"", 6, 6)]
    [InlineData("\"6-7\"", 6, 7)]
    [InlineData("\"5\"", 5, 5)]
    public void Link_protocol_versions_takes_a_range_up_to_what_this_build_speaks(string value, int min, int max) =>
        Assert.Equal(new ProtocolRange((byte)min, (byte)max), OmdConfigLoader.Parse($"[link]\nprotocol_versions = {value}\n", "omd.toml").ProtocolVersions);

    [Theory]
    [InlineData("\"8\"")]
    [InlineData("\"7-6\"")]
    [InlineData("\"six\"")]
    [InlineData("7")]
    public void Link_protocol_versions_refuses_anything_else_in_one_line(string value)
    {
        var error = Assert.Throws<ConfigException>(() => OmdConfigLoader.Parse($"[link]\nprotocol_versions = {value}\n", "omd.toml"));
        Assert.Contains($"link.protocol_versions must be a quoted range of versions up to {ProtocolRange.Latest}, such as \"6-{ProtocolRange.Latest}\"", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Link_protocol_versions_defaults_to_every_version_this_build_speaks() =>
        Assert.Equal(ProtocolRange.Current, OmdConfigLoader.Parse("", "omd.toml").ProtocolVersions);
}
