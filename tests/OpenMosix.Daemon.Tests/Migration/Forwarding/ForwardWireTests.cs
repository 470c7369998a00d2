using System.Buffers.Binary;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration.Forwarding;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Tests.Migration.Forwarding;

public sealed class ForwardWireTests
{
    [Fact]
    public void A_request_with_an_address_and_data_survives_a_round_trip()
    {
        var sent = new ForwardRequest(7, ForwardOp.Send, 12, 0x4000, -3, long.MaxValue) { Address = new byte[] { 2, 0, 0x1f, 0x90 }, Data = "hello"u8.ToArray() };
        var got = ForwardWire.DecodeRequest(ForwardWire.Encode(sent));
        Assert.Equal((sent.Id, sent.Op, sent.Fd, sent.A0, sent.A1, sent.A2), (got.Id, got.Op, got.Fd, got.A0, got.A1, got.A2));
        Assert.Equal(sent.Address.ToArray(), got.Address.ToArray());
        Assert.Equal(sent.Data.ToArray(), got.Data.ToArray());
    }

    [Fact]
    public void A_reply_with_extra_and_data_and_a_failed_reply_survive_a_round_trip()
    {
        var sent = new ForwardReply(9, 5) { Extra = new byte[16], Data = "abcde"u8.ToArray() };
        var got = ForwardWire.DecodeReply(ForwardWire.Encode(sent));
        Assert.Equal((9u, 5L), (got.Id, got.Result));
        Assert.Equal(16, got.Extra.Length);
        Assert.Equal(sent.Data.ToArray(), got.Data.ToArray());
        Assert.Equal(-104L, ForwardWire.DecodeReply(ForwardWire.Encode(new ForwardReply(1, -104))).Result);
    }

    [Fact]
    public void A_pooled_request_filled_in_place_and_stamped_with_its_id_reads_back_as_the_request_it_encodes()
    {
        var request = new ForwardRequest(0, ForwardOp.Send, 5, 0x4000, ForwardWire.WholePiece, 77) { Address = new byte[] { 1, 2 } };
        var frame = ForwardWire.RentRequest(request, 3, out var dataAt, out var length);
        "xyz"u8.CopyTo(frame.AsSpan(dataAt));
        ForwardWire.StampId(frame, 41);
        var got = ForwardWire.DecodeRequest(frame.AsMemory(0, length));
        Assert.Equal((41u, ForwardOp.Send, 5, 0x4000L, ForwardWire.WholePiece, 77L), (got.Id, got.Op, got.Fd, got.A0, got.A1, got.A2));
        Assert.Equal(new byte[] { 1, 2 }, got.Address.ToArray());
        Assert.Equal("xyz"u8.ToArray(), got.Data.ToArray());
        System.Buffers.ArrayPool<byte>.Shared.Return(frame);
    }

    [Fact]
    public void A_pooled_reply_read_into_in_place_reads_back_with_its_result_and_only_the_bytes_read()
    {
        var frame = ForwardWire.RentReply(ForwardWire.MaxData);
        "data"u8.CopyTo(frame.AsSpan(ForwardWire.ReplyDataAt));
        var length = ForwardWire.FinishReply(frame, 12, 4, 4);
        var got = ForwardWire.DecodeReply(frame.AsMemory(0, length));
        Assert.Equal((12u, 4L, 0), (got.Id, got.Result, got.Extra.Length));
        Assert.Equal("data"u8.ToArray(), got.Data.ToArray());
        System.Buffers.ArrayPool<byte>.Shared.Return(frame);
    }

    [Fact]
    public void The_largest_piece_of_data_fits_a_frame_and_a_larger_one_is_refused_before_sending()
    {
        var largest = ForwardWire.Encode(new ForwardRequest(1, ForwardOp.Write, 3) { Data = new byte[ForwardWire.MaxData] });
        Assert.True(largest.Length <= NodeLink.MaxPayload);
        Assert.Throws<LinkException>(() => ForwardWire.Encode(new ForwardRequest(1, ForwardOp.Write, 3) { Data = new byte[ForwardWire.MaxData + 1] }));
    }

    public static TheoryData<string, byte[]> HostileRequests => new()
    {
        { "shorter than its header", new byte[10] },
        { "unknown forwarded call", Request(op: 99) },
        { "address of", Request(addressLength: 300) },
        { "address of", Request(addressLength: 40, actualAddress: 10) },
        { "data of", Request(extraData: ForwardWire.MaxData + 1) },
    };

    [Theory]
    [MemberData(nameof(HostileRequests))]
    public void A_malformed_request_is_refused_with_what_is_wrong(string problem, byte[] frame)
    {
        var e = Assert.Throws<LinkException>(() => ForwardWire.DecodeRequest(frame));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reply_claiming_more_than_a_piece_or_an_errno_beyond_the_kernels_is_refused()
    {
        var frame = ForwardWire.Encode(new ForwardReply(1, 1) { Data = new byte[1] });
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(4), ForwardWire.MaxData + 1L);
        Assert.Throws<LinkException>(() => ForwardWire.DecodeReply(frame));
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(4), -5000);
        Assert.Throws<LinkException>(() => ForwardWire.DecodeReply(frame));
        Assert.Throws<LinkException>(() => ForwardWire.DecodeReply(new byte[13]));
    }

    [Fact]
    public void A_readiness_notice_survives_a_round_trip_and_is_told_apart_from_a_result()
    {
        var frame = ForwardWire.Encode(new ForwardNotice(1040, 0x2005));
        Assert.True(ForwardWire.IsNotice(frame));
        Assert.False(ForwardWire.IsNotice(ForwardWire.Encode(new ForwardReply(1, 0))));
        Assert.Equal(new ForwardNotice(1040, 0x2005), ForwardWire.DecodeNotice(frame));
    }

    [Fact]
    public void A_notice_of_the_wrong_size_with_extra_bytes_or_for_an_impossible_descriptor_is_refused()
    {
        var longer = ForwardWire.Encode(new ForwardReply(0, 7) { Data = new byte[3] });
        Assert.Contains("readiness notice of 17 bytes", Assert.Throws<LinkException>(() => ForwardWire.DecodeNotice(longer)).Message, StringComparison.Ordinal);
        var withExtra = ForwardWire.Encode(new ForwardReply(0, 7) { Extra = new byte[1], Data = new byte[1] });
        Assert.Throws<LinkException>(() => ForwardWire.DecodeNotice(withExtra));
        var negative = ForwardWire.Encode(new ForwardNotice(0, 1));
        BinaryPrimitives.WriteInt64LittleEndian(negative.AsSpan(4), -2);
        Assert.Contains("for fd -2", Assert.Throws<LinkException>(() => ForwardWire.DecodeNotice(negative)).Message, StringComparison.Ordinal);
        // -1 is home's terminal (background or not), nothing else.
        Assert.Equal(new ForwardNotice(ForwardWire.TerminalNotice, 1), ForwardWire.DecodeNotice(ForwardWire.Encode(new ForwardNotice(ForwardWire.TerminalNotice, 1))));
        Assert.Throws<LinkException>(() => ForwardWire.DecodeNotice(ForwardWire.Encode(new ForwardNotice(ForwardWire.TerminalNotice, 4))));
        var huge = ForwardWire.Encode(new ForwardNotice(0, 1));
        BinaryPrimitives.WriteInt64LittleEndian(huge.AsSpan(4), ForwardWire.MaxDescriptor + 1L);
        Assert.Throws<LinkException>(() => ForwardWire.DecodeNotice(huge));
    }

    [Fact]
    public void A_duplicate_and_an_ioctl_with_its_argument_survive_a_round_trip()
    {
        var dup = ForwardWire.DecodeRequest(ForwardWire.Encode(new ForwardRequest(3, ForwardOp.Duplicate, 5, 1060)));
        Assert.Equal((ForwardOp.Duplicate, 5, 1060L), (dup.Op, dup.Fd, dup.A0));
        var control = ForwardWire.DecodeRequest(ForwardWire.Encode(new ForwardRequest(4, ForwardOp.Control, 5, 0x5421, 0, 0) { Data = new byte[] { 1, 0, 0, 0 } }));
        Assert.Equal((ForwardOp.Control, 0x5421L), (control.Op, control.A0));
        Assert.Equal(new byte[] { 1, 0, 0, 0 }, control.Data.ToArray());
    }

    private static byte[] Request(byte op = (byte)ForwardOp.Read, int addressLength = 0, int? actualAddress = null, int extraData = 0)
    {
        var frame = new byte[35 + (actualAddress ?? addressLength) + extraData];
        frame[0] = op;
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(33), (ushort)addressLength);
        return frame;
    }
}
