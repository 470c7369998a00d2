using System.Net;
using OpenMosix.Cluster.Transport;
using OpenMosix.TestSupport;

namespace OpenMosix.Cluster.Tests;

/// <summary>
/// Node protocol versions in the link's hello (issue #17): two nodes link at the highest version both speak, or both
/// refuse in one line naming both ranges; a hello of this build still reads, to a node of version 6, as its own.
/// </summary>
public sealed class ProtocolNegotiationTests : IDisposable
{
    private static readonly IPAddress Here = IPAddress.Loopback;
    private readonly TestPki _pki = new();
    private readonly System.Net.Sockets.Socket _listener = LinkSockets.Listen();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(6, 7, 6, 7, 7)]
    [InlineData(6, 7, 6, 6, 6)]
    [InlineData(6, 6, 6, 7, 6)]
    [InlineData(6, 9, 7, 8, 8)]
    [InlineData(7, 7, 6, 7, 7)]
    public void Two_ranges_that_meet_agree_on_the_highest_version_both_speak(int ourMin, int ourMax, int theirMin, int theirMax, int agreed)
    {
        var ours = new ProtocolRange((byte)ourMin, (byte)ourMax);
        var theirs = new ProtocolRange((byte)theirMin, (byte)theirMax);
        Assert.Equal((byte)agreed, ProtocolRange.Negotiate(ours, theirs));
        Assert.Equal((byte)agreed, ProtocolRange.Negotiate(theirs, ours));
    }

    [Theory]
    [InlineData(6, 7, 5, 5)]
    [InlineData(6, 7, 8, 9)]
    [InlineData(7, 7, 6, 6)]
    public void Two_ranges_that_do_not_meet_agree_on_nothing(int ourMin, int ourMax, int theirMin, int theirMax)
    {
        var ours = new ProtocolRange((byte)ourMin, (byte)ourMax);
        var theirs = new ProtocolRange((byte)theirMin, (byte)theirMax);
        Assert.Null(ProtocolRange.Negotiate(ours, theirs));
        Assert.Null(ProtocolRange.Negotiate(theirs, ours));
    }

    [Theory]
    [InlineData("6-7", 6, 7)]
    [InlineData("6", 6, 6)]
    [InlineData("7-7", 7, 7)]
    public void A_range_reads_as_omd_toml_writes_it(string text, int min, int max)
    {
        Assert.Equal(new ProtocolRange((byte)min, (byte)max), ProtocolRange.Parse(text));
        Assert.Equal(text == "7-7" ? "7" : text, ProtocolRange.Parse(text)!.Value.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("7-6")]
    [InlineData("0-7")]
    [InlineData("6-7-8")]
    [InlineData(" 6")]
    [InlineData("6-256")]
    [InlineData("-7")]
    public void Anything_else_is_not_a_range(string text) => Assert.Null(ProtocolRange.Parse(text));

    [Fact]
    public void A_hello_of_this_build_is_a_version_6_hello_to_a_node_that_reads_only_what_version_6_sent()
    {
        var share = LinkKeys.NewShare();
        var ranged = LinkHello.Encode(3, share, RecordCipher.Aes128Gcm | RecordCipher.Aegis128L, ProtocolRange.Current);
        var single = LinkHello.Encode(3, share, RecordCipher.Aes128Gcm | RecordCipher.Aegis128L, new ProtocolRange(6, 6));
        // Version 6 checks the magic and that the version byte is 6, reads the fixed part and drops the rest with TLS;
        // it takes the ciphers as a set, ignoring bits that are no cipher (RecordCiphers.Choose).
        Assert.Equal(single.Length + 1, ranged.Length);
        Assert.Equal(single[..^1], ranged[..(single.Length - 1)]);
        Assert.Equal(6, ranged[4]);
        Assert.Equal(LinkHello.RangeFollows, ranged[single.Length - 1] & LinkHello.RangeFollows);
        Assert.Equal(RecordCipher.Aegis128L, RecordCiphers.Choose(RecordCipher.Aegis128L | RecordCipher.Aegis256, (RecordCipher)ranged[single.Length - 1]));
        Assert.Equal(ProtocolRange.Latest, ranged[^1]);

        // And this build reads version 6's hello as a range of 6 alone.
        var old = LinkHello.Decode(single);
        Assert.Equal(((ushort)3, new ProtocolRange(6, 6), RecordCipher.Aes128Gcm | RecordCipher.Aegis128L), (old.Node, old.Versions, old.Ciphers));
        var current = LinkHello.Decode(ranged);
        Assert.Equal((ProtocolRange.Current, RecordCipher.Aes128Gcm | RecordCipher.Aegis128L), (current.Versions, current.Ciphers));
        Assert.Equal(share, current.Share);
    }

    [Theory]
    [InlineData(6, 6, 6)]
    [InlineData(6, 7, 7)]
    [InlineData(7, 7, 7)]
    public async Task A_node_of_this_build_links_with_a_node_of_an_older_range_at_the_highest_version_both_speak(int min, int max, int agreed)
    {
        var older = new ProtocolRange((byte)min, (byte)max);
        var serverSide = LinkSockets.AcceptOne(_listener, 7, new LinkSecurity(_pki.Node(7, Here), _ => Here) { Versions = older });
        await using var dialled = await NodeLink.ConnectAsync((IPEndPoint)_listener.LocalEndPoint!, 3, 7, _pki.Links(3, Here, _ => Here), Cancel);
        await using var accepted = await serverSide;
        Assert.Equal(((byte)agreed, (byte)agreed), (dialled.Protocol, accepted.Protocol));
        Assert.Equal((older, ProtocolRange.Current), (dialled.PeerVersions, accepted.PeerVersions));
        await dialled.SendAsync(FrameType.Control, "ping"u8.ToArray(), Cancel);
        Assert.Equal("ping"u8.ToArray(), (await accepted.ReceiveAsync(Cancel))!.Value.Payload);
        await accepted.SendAsync(FrameType.Control, "pong"u8.ToArray(), Cancel);
        Assert.Equal("pong"u8.ToArray(), (await dialled.ReceiveAsync(Cancel))!.Value.Payload);
    }

    [Fact]
    public async Task Two_nodes_with_no_version_in_common_both_refuse_the_link_in_one_line_that_names_both_ranges()
    {
        var serverSide = LinkSockets.AcceptOne(_listener, 7, new LinkSecurity(_pki.Node(7, Here), _ => Here) { Versions = new(5, 5) });
        var refused = await Assert.ThrowsAsync<LinkException>(() => NodeLink.ConnectAsync((IPEndPoint)_listener.LocalEndPoint!, 3, 7,
            _pki.Links(3, Here, _ => Here), Cancel));
        Assert.Matches($@"^link to node 7 at 127\.0\.0\.1:\d+ refused: it speaks node protocol version 5, this node versions 6-{ProtocolRange.Latest}$",
            refused.Message);
        var theirs = await Assert.ThrowsAsync<LinkException>(() => serverSide);
        Assert.Equal($"node 3 speaks node protocol versions 6-{ProtocolRange.Latest}, this node version 5", theirs.Message);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _pki.Dispose();
    }
}
