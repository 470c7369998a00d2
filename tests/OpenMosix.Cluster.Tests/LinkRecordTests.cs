using System.Net;
using OpenMosix.Cluster.Transport;
using OpenMosix.TestSupport;

namespace OpenMosix.Cluster.Tests;

/// <summary>What someone on the path between two linked nodes can do to the records after the TLS handshake: nothing but
/// break the link. A relay (<see cref="WireTap"/>) between node 3 and node 7 alters or repeats what node 3 sends.</summary>
public sealed class LinkRecordTests : IDisposable
{
    private static readonly IPAddress Here = IPAddress.Loopback;
    private readonly TestPki _pki = new();
    private readonly System.Net.Sockets.Socket _listener = LinkSockets.Listen();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<RecordCipher> Ciphers => [RecordCipher.Aes128Gcm, RecordCipher.Aegis128L, RecordCipher.Aegis256];

    [Theory, MemberData(nameof(Ciphers))]
    public async Task A_frame_altered_on_the_wire_breaks_the_link_with_a_reason_instead_of_arriving(RecordCipher cipher)
    {
        await using var link = await Link(cipher);
        var (tap, client, server) = link;
        Assert.Equal(cipher, client.Cipher);
        tap.FlipByteAt(tap.Seen.Length + FrameWriter.HeaderSize + 100);
        await client.SendAsync(FrameType.Image, new byte[4096], Cancel);
        var error = await Assert.ThrowsAsync<LinkException>(() => server.ReceiveAsync(Cancel));
        Assert.Equal("record 1 from node 3 failed authentication (altered, replayed, reordered or not sealed for this link)", error.Message);
    }

    [Theory, MemberData(nameof(Ciphers))]
    public async Task A_frame_replayed_on_the_wire_breaks_the_link_after_the_genuine_one(RecordCipher cipher)
    {
        await using var link = await Link(cipher);
        var (tap, client, server) = link;
        var before = tap.Seen.Length;
        await client.SendAsync(FrameType.Control, "{\"kind\":\"signal\",\"signal\":9}"u8.ToArray(), Cancel);
        Assert.Equal(FrameType.Control, (await server.ReceiveAsync(Cancel))!.Value.Type);
        await tap.InjectAsync(tap.Seen[before..]);
        var error = await Assert.ThrowsAsync<LinkException>(() => server.ReceiveAsync(Cancel));
        Assert.StartsWith("record 2 from node 3 failed authentication", error.Message, StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Ciphers))]
    public async Task Frames_after_the_handshake_are_not_TLS_records_but_travel_sealed_both_ways(RecordCipher cipher)
    {
        await using var link = await Link(cipher);
        var (tap, client, server) = link;
        var before = tap.Seen.Length;
        var payload = "stdout of a guest"u8.ToArray();
        await client.SendAsync(FrameType.Stdio, payload, Cancel);
        await server.SendAsync(FrameType.Stdio, payload, Cancel);
        Assert.Equal(payload, (await server.ReceiveAsync(Cancel))!.Value.Payload);
        Assert.Equal(payload, (await client.ReceiveAsync(Cancel))!.Value.Payload);
        var record = tap.Seen[before..];
        Assert.Equal(FrameWriter.HeaderSize + payload.Length + (cipher == RecordCipher.Aes128Gcm ? 16 : 32), record.Length);
        Assert.Equal((byte)FrameType.Stdio, record[0]);
        Assert.Equal(-1, record.AsSpan().IndexOf(payload));
    }

    [Fact]
    public async Task Two_nodes_with_libsodium_take_AEGIS_128L_and_a_large_frame_arrives_whole()
    {
        await using var link = await Link(null);
        var (_, client, server) = link;
        Assert.Equal(RecordCipher.Aegis128L, client.Cipher);
        Assert.Equal(RecordCipher.Aegis128L, server.Cipher);
        var image = System.Security.Cryptography.RandomNumberGenerator.GetBytes(NodeLink.MaxPayload);
        await client.SendAsync(FrameType.Image, image, Cancel);
        Assert.Equal(image, (await server.ReceiveAsync(Cancel))!.Value.Payload);
    }

    [Theory]
    [InlineData(RecordCipher.Aes128Gcm, RecordCipher.Aes128Gcm | RecordCipher.Aegis128L | RecordCipher.Aegis256, RecordCipher.Aes128Gcm)]
    [InlineData(RecordCipher.Aes128Gcm | RecordCipher.Aegis128L | RecordCipher.Aegis256, RecordCipher.Aes128Gcm, RecordCipher.Aes128Gcm)]
    [InlineData(RecordCipher.Aegis256 | RecordCipher.Aes128Gcm, RecordCipher.Aes128Gcm | RecordCipher.Aegis128L | RecordCipher.Aegis256, RecordCipher.Aegis256)]
    public async Task A_node_without_AEGIS_and_one_with_it_talk_under_the_cipher_both_have(RecordCipher client, RecordCipher server, RecordCipher common)
    {
        var serverSide = LinkSockets.AcceptOne(_listener, 7, Offering(7, server));
        await using var dialled = await NodeLink.ConnectAsync((IPEndPoint)_listener.LocalEndPoint!, 3, 7, Offering(3, client), Cancel);
        await using var accepted = await serverSide;
        Assert.Equal(common, dialled.Cipher);
        Assert.Equal(common, accepted.Cipher);
        await dialled.SendAsync(FrameType.Control, "ping"u8.ToArray(), Cancel);
        Assert.Equal("ping"u8.ToArray(), (await accepted.ReceiveAsync(Cancel))!.Value.Payload);
    }

    [Theory]
    [InlineData(RecordCipher.Aes128Gcm)]
    [InlineData(RecordCipher.Aegis256)]
    public async Task The_accepting_node_chooses_by_its_own_order_and_the_dialling_node_takes_its_choice(RecordCipher first)
    {
        // Node 7 (accepting) puts `first` before the faster AEGIS-128L; node 3 offers all three in the usual order.
        var order = new[] { first }.Concat(RecordCiphers.Preference.Where(c => c != first)).ToList();
        var serverSide = LinkSockets.AcceptOne(_listener, 7, new LinkSecurity(_pki.Node(7, Here), _ => Here) { CipherOrder = order });
        await using var dialled = await NodeLink.ConnectAsync((IPEndPoint)_listener.LocalEndPoint!, 3, 7,
            Offering(3, RecordCipher.Aes128Gcm | RecordCipher.Aegis128L | RecordCipher.Aegis256), Cancel);
        await using var accepted = await serverSide;
        Assert.Equal((first, first), (dialled.Cipher, accepted.Cipher));
        await dialled.SendAsync(FrameType.Control, "ping"u8.ToArray(), Cancel);
        Assert.Equal("ping"u8.ToArray(), (await accepted.ReceiveAsync(Cancel))!.Value.Payload);
    }

    [Fact]
    public async Task Two_nodes_with_no_cipher_in_common_both_refuse_the_link_in_one_line_that_names_both_lists()
    {
        var serverSide = LinkSockets.AcceptOne(_listener, 7, Offering(7, RecordCipher.Aes128Gcm));
        var refused = await Assert.ThrowsAsync<LinkException>(() => NodeLink.ConnectAsync((IPEndPoint)_listener.LocalEndPoint!, 3, 7,
            Offering(3, RecordCipher.Aegis128L), Cancel));
        Assert.Matches(@"^link to node 7 at 127\.0\.0\.1:\d+ refused: no record cipher in common \(it offers aes-128-gcm; this node aegis-128l\)$", refused.Message);
        var theirs = await Assert.ThrowsAsync<LinkException>(() => serverSide);
        Assert.Equal("node 3: no record cipher in common (it offers aegis-128l; this node aes-128-gcm)", theirs.Message);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _pki.Dispose();
    }

    /// <summary>Node 3 dials node 7 through a tap; once both ends are up, the tap has seen all of node 3's handshake.</summary>
    /// <summary>Node <paramref name="node"/>'s links, offering only <paramref name="ciphers"/> (as a node without libsodium
    /// offers AES-128-GCM alone).</summary>
    private LinkSecurity Offering(ushort node, RecordCipher ciphers) =>
        new(_pki.Node(node, Here), _ => Here) { Ciphers = ciphers };

    /// <param name="cipher">The one cipher node 7 offers, or null for all it has.</param>
    private async Task<TappedLink> Link(RecordCipher? cipher)
    {
        var tap = new WireTap((IPEndPoint)_listener.LocalEndPoint!);
        var serverSide = LinkSockets.AcceptOne(_listener, 7, cipher is { } only ? Offering(7, only) : _pki.Links(7, Here, _ => Here));
        var client = await NodeLink.ConnectAsync(tap.Endpoint, 3, 7, _pki.Links(3, Here, _ => Here), Cancel);
        return new TappedLink(tap, client, await serverSide);
    }

    private sealed record TappedLink(WireTap Tap, NodeLink Client, NodeLink Server) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
            Tap.Dispose();
        }
    }
}
