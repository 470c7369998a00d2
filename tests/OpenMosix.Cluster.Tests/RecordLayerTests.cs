using System.Security.Cryptography;
using OpenMosix.Cluster.Transport;

namespace OpenMosix.Cluster.Tests;

/// <summary>The record layer of node links, without sockets: one end seals, the other opens.</summary>
public sealed class RecordLayerTests : IDisposable
{
    private static readonly byte[] ClientShare = RandomNumberGenerator.GetBytes(LinkKeys.ShareSize);
    private static readonly byte[] ServerShare = RandomNumberGenerator.GetBytes(LinkKeys.ShareSize);
    private readonly RecordDirection _clientSends, _clientReceives, _serverSends, _serverReceives;

    public RecordLayerTests()
    {
        (_clientSends, _clientReceives) = LinkKeys.Derive(ClientShare, ServerShare, 3, 7, asClient: true);
        (_serverSends, _serverReceives) = LinkKeys.Derive(ClientShare, ServerShare, 3, 7, asClient: false);
    }

    [Fact]
    public void Records_sealed_by_either_end_open_at_the_other_as_they_were_sent()
    {
        for (var i = 0; i < 3; i++)
        {
            var payload = RandomNumberGenerator.GetBytes(1000 + i);
            Assert.Equal(payload, Open(_serverReceives, Seal(_clientSends, 2, payload)));
            Assert.Equal(payload, Open(_clientReceives, Seal(_serverSends, 4, payload)));
        }
        Assert.Equal(Array.Empty<byte>(), Open(_serverReceives, Seal(_clientSends, 6, [])));
        Assert.Equal(4UL, _serverReceives.Records);
    }

    [Fact]
    public void The_payload_does_not_travel_in_clear()
    {
        var payload = new byte[4096];
        var record = Seal(_clientSends, 2, payload);
        Assert.NotEqual(payload, record.Payload);
    }

    [Fact]
    public void A_flipped_bit_in_the_header_the_payload_or_the_tag_is_refused()
    {
        var payload = RandomNumberGenerator.GetBytes(300);
        foreach (var part in new[] { 0, 1, 2 })
        {
            var (sending, receiving) = Pair();
            var record = Seal(sending, 2, payload);
            var bytes = part switch { 0 => record.Header, 1 => record.Payload, _ => record.Tag };
            bytes[bytes.Length / 2] ^= 0x10;
            Assert.False(receiving.TryOpen(record.Header, record.Payload, record.Tag), $"part {part} was altered");
            Assert.All(record.Payload, b => Assert.Equal(0, b));
            sending.Dispose();
            receiving.Dispose();
        }
    }

    [Fact]
    public void A_replayed_record_is_refused()
    {
        var record = Seal(_clientSends, 2, "signal 9"u8.ToArray());
        var copy = record.Copy();
        Assert.True(_serverReceives.TryOpen(record.Header, record.Payload, record.Tag));
        Assert.False(_serverReceives.TryOpen(copy.Header, copy.Payload, copy.Tag));
    }

    [Fact]
    public void Records_delivered_out_of_order_or_with_one_dropped_are_refused()
    {
        Seal(_clientSends, 2, "first"u8.ToArray());
        var second = Seal(_clientSends, 2, "second"u8.ToArray());
        Assert.False(_serverReceives.TryOpen(second.Header, second.Payload, second.Tag));
        var (sending, receiving) = Pair();
        Seal(sending, 2, "dropped"u8.ToArray());
        var after = Seal(sending, 2, "after"u8.ToArray());
        Assert.False(receiving.TryOpen(after.Header, after.Payload, after.Tag));
        sending.Dispose();
        receiving.Dispose();
    }

    [Fact]
    public void A_record_of_one_direction_or_of_another_link_does_not_open()
    {
        var mine = Seal(_clientSends, 2, "to the server"u8.ToArray());
        Assert.False(_clientReceives.TryOpen(mine.Header, mine.Payload, mine.Tag));
        var (_, otherLink) = LinkKeys.Derive(RandomNumberGenerator.GetBytes(LinkKeys.ShareSize), ServerShare, 3, 7, asClient: false);
        using (otherLink)
        {
            var again = Seal(_clientSends, 2, "to the server"u8.ToArray());
            Assert.False(otherLink.TryOpen(again.Header, again.Payload, again.Tag));
        }
    }

    [Fact]
    public void Both_ends_step_to_a_new_key_at_the_same_record_after_the_record_or_byte_limit()
    {
        var secret = RandomNumberGenerator.GetBytes(RecordDirection.SecretSize);
        using var sending = new RecordDirection(secret, recordsPerKey: 3, bytesPerKey: 1000);
        using var receiving = new RecordDirection(secret, recordsPerKey: 3, bytesPerKey: 1000);
        using var neverRekeys = new RecordDirection(secret);
        var payload = new byte[100];
        for (var i = 0; i < 4; i++)
        {
            var record = Seal(sending, 2, payload);
            var copy = record.Copy();
            Assert.Equal(payload, Open(receiving, record));
            // Under the first key the two agree; from the fourth record on only a peer that rekeyed can open.
            Assert.Equal(i < 3, neverRekeys.TryOpen(copy.Header, copy.Payload, copy.Tag));
        }
        Assert.Equal(1, receiving.Rekeys);

        using var bySize = new RecordDirection(secret, recordsPerKey: 1000, bytesPerKey: 250);
        using var bySizeToo = new RecordDirection(secret, recordsPerKey: 1000, bytesPerKey: 250);
        for (var i = 0; i < 6; i++) Assert.Equal(payload, Open(bySizeToo, Seal(bySize, 2, payload)));
        Assert.Equal(2, bySizeToo.Rekeys);
    }

    public void Dispose()
    {
        foreach (var direction in new[] { _clientSends, _clientReceives, _serverSends, _serverReceives }) direction.Dispose();
    }

    private static (RecordDirection Sending, RecordDirection Receiving) Pair()
    {
        var secret = RandomNumberGenerator.GetBytes(RecordDirection.SecretSize);
        return (new RecordDirection(secret), new RecordDirection(secret));
    }

    private static Record Seal(RecordDirection direction, byte type, byte[] payload)
    {
        var record = new Record(new byte[FrameWriter.HeaderSize], new byte[payload.Length], new byte[RecordDirection.TagSize]);
        FrameWriter.WriteHeader(record.Header, type, payload.Length);
        direction.Seal(record.Header, payload, record.Payload, record.Tag);
        return record;
    }

    private static byte[] Open(RecordDirection direction, Record record)
    {
        Assert.True(direction.TryOpen(record.Header, record.Payload, record.Tag), "the record opens");
        return record.Payload;
    }

    private sealed record Record(byte[] Header, byte[] Payload, byte[] Tag)
    {
        public Record Copy() => new([.. Header], [.. Payload], [.. Tag]);
    }
}
