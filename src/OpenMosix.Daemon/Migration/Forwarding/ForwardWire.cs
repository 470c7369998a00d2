using System.Buffers;
using System.Buffers.Binary;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>A call the copy made on a forwarded descriptor, for home to carry out.</summary>
public sealed record ForwardRequest(uint Id, ForwardOp Op, int Fd, long A0 = 0, long A1 = 0, long A2 = 0)
{
    public ReadOnlyMemory<byte> Address { get; init; } = ReadOnlyMemory<byte>.Empty;
    public ReadOnlyMemory<byte> Data { get; init; } = ReadOnlyMemory<byte>.Empty;
    /// <summary>The link's payload array <see cref="Data"/> lies in, given back to the link's pool
    /// (<see cref="FramePool"/>) once the call is carried out: a new MiB per piece of a bulk write was a quarter of home's
    /// omd in page clearing and garbage collection (perf, 2026-12-07). Null: nobody gives it back.</summary>
    internal byte[]? Payload { get; init; }
}

/// <summary>What the call returned (a negated errno for a failure), and what it gave back.</summary>
public sealed record ForwardReply(uint Id, long Result)
{

    /// <summary>An address or an option value.</summary>
    public ReadOnlyMemory<byte> Extra { get; init; } = ReadOnlyMemory<byte>.Empty;
    /// <summary>Bytes read or received, or a struct stat.</summary>
    public ReadOnlyMemory<byte> Data { get; init; } = ReadOnlyMemory<byte>.Empty;
    /// <summary>The <see cref="ReadPieces"/> array <see cref="Data"/> lies in, given back by whoever scattered its last
    /// byte; null: nobody gives it back.</summary>
    internal byte[]? Lease { get; init; }
}

/// <summary>Home's forwarded descriptor (named by the number it was first forwarded under) is now ready for
/// <paramref name="Ready"/> (poll bits): sent when that changes, so that the copy's placeholder shows it.</summary>
public readonly record struct ForwardNotice(int Fd, short Ready);

/// <summary>
/// Forward frames: binary, little-endian, one call or one result each. Calls are many and small and carry bytes,
/// so they are not JSON control messages (no base64, no parse per call). A request is op u8, id u32, fd i32, three
/// i64 arguments, address length u16, the address, then the data; a reply is id u32, result i64, extra length u16,
/// the extra, then the data. A notice is a reply with id 0 (no call has it): result the descriptor, data the u16 poll
/// bits. Every length is checked against its bound before anything is taken from the frame.
/// </summary>
public static class ForwardWire
{
    /// <summary>The most data one call carries: a larger read is shortened, a larger write split. A node link frame
    /// holds 1 MiB: this leaves room for the header and an address.</summary>
    public const int MaxData = (1 << 20) - 1024;
    /// <summary>A1 of a write or send piece written behind: home writes all of it (looping as a blocking write would).</summary>
    public const long WholePiece = 1;
    /// <summary>The most an address (sockaddr_storage) or an option value may take.</summary>
    public const int MaxExtra = 256;
    private const int RequestHead = 1 + 4 + 4 + 24 + 2, ReplyHead = 4 + 8 + 2;

    public static byte[] Encode(ForwardRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var frame = Frame(RequestHead, request.Address, request.Data, "request");
        WriteRequestHead(frame, request);
        return frame;
    }

    /// <summary>
    /// A request whose <paramref name="dataLength"/> bytes of data the caller puts in place itself, at
    /// <paramref name="dataAt"/> (read there straight from the copy's memory): a frame from <see cref="ArrayPool{T}.Shared"/>,
    /// its first <paramref name="length"/> bytes the frame, to be returned to the pool once it is sent. A bulk write
    /// copied each piece into a buffer of its own and again into its frame, both allocated per MiB.
    /// </summary>
    public static byte[] RentRequest(ForwardRequest request, int dataLength, out int dataAt, out int length)
    {
        ArgumentNullException.ThrowIfNull(request);
        Check(request.Address.Length <= MaxExtra && dataLength is >= 0 and <= MaxData && request.Data.IsEmpty, "request over its bounds");
        dataAt = RequestHead + request.Address.Length;
        length = dataAt + dataLength;
        var frame = ArrayPool<byte>.Shared.Rent(length);
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(RequestHead - 2), (ushort)request.Address.Length);
        request.Address.Span.CopyTo(frame.AsSpan(RequestHead));
        WriteRequestHead(frame, request);
        return frame;
    }

    /// <summary>Puts the call's id into a request frame made with id 0.</summary>
    public static void StampId(Span<byte> request, uint id) => BinaryPrimitives.WriteUInt32LittleEndian(request[1..], id);

    /// <summary>Where a reply's data begins in a frame from <see cref="RentReply"/>: a read at home reads into it there.</summary>
    public const int ReplyDataAt = ReplyHead;

    /// <summary>A pooled frame for a reply with no extra and at most <paramref name="maxData"/> bytes of data, read
    /// into it at <see cref="ReplyDataAt"/>; <see cref="FinishReply"/> writes its head.</summary>
    public static byte[] RentReply(int maxData) => ArrayPool<byte>.Shared.Rent(ReplyHead + 1 + Math.Clamp(maxData, 0, MaxData));

    /// <summary>The head of a reply in a frame of <see cref="RentReply"/> with <paramref name="dataLength"/> bytes of data
    /// in place; its length.</summary>
    public static int FinishReply(Span<byte> frame, uint id, long result, int dataLength)
    {
        Check(dataLength is >= 0 and <= MaxData && frame.Length >= ReplyHead + dataLength, "reply over its bounds");
        BinaryPrimitives.WriteUInt32LittleEndian(frame, id);
        BinaryPrimitives.WriteInt64LittleEndian(frame[4..], result);
        BinaryPrimitives.WriteUInt16LittleEndian(frame[(ReplyHead - 2)..], 0);
        return ReplyHead + dataLength;
    }

    /// <summary>Extra of a peek's reply whose bytes came from a checked pipe: each consume must be waited for.</summary>
    public const byte CheckedAhead = 1;

    /// <summary>As <see cref="FinishReply"/>, with an extra of one byte, <see cref="CheckedAhead"/>: the data in place at
    /// <see cref="ReplyDataAt"/> moves one byte on, so the frame must hold one more (<see cref="RentReply"/> rents one
    /// more than the largest data).</summary>
    public static int FinishCheckedReply(Span<byte> frame, uint id, long result, int dataLength)
    {
        Check(dataLength is >= 0 and <= MaxData && frame.Length >= ReplyHead + 1 + dataLength, "reply over its bounds");
        frame.Slice(ReplyHead, dataLength).CopyTo(frame[(ReplyHead + 1)..]);
        BinaryPrimitives.WriteUInt32LittleEndian(frame, id);
        BinaryPrimitives.WriteInt64LittleEndian(frame[4..], result);
        BinaryPrimitives.WriteUInt16LittleEndian(frame[(ReplyHead - 2)..], 1);
        frame[ReplyHead] = CheckedAhead;
        return ReplyHead + 1 + dataLength;
    }

    private static void WriteRequestHead(Span<byte> s, ForwardRequest request)
    {
        s[0] = (byte)request.Op;
        BinaryPrimitives.WriteUInt32LittleEndian(s[1..], request.Id);
        BinaryPrimitives.WriteInt32LittleEndian(s[5..], request.Fd);
        BinaryPrimitives.WriteInt64LittleEndian(s[9..], request.A0);
        BinaryPrimitives.WriteInt64LittleEndian(s[17..], request.A1);
        BinaryPrimitives.WriteInt64LittleEndian(s[25..], request.A2);
    }

    public static ForwardRequest DecodeRequest(ReadOnlyMemory<byte> frame)
    {
        var s = frame.Span;
        Check(s.Length >= RequestHead, $"a forwarded call of {s.Length} bytes is shorter than its header");
        var op = (ForwardOp)s[0];
        Check(Enum.IsDefined(op), $"unknown forwarded call {s[0]}");
        var (address, data) = Tail(frame, RequestHead, "a forwarded call's", "address");
        return new ForwardRequest(BinaryPrimitives.ReadUInt32LittleEndian(s[1..]), op, BinaryPrimitives.ReadInt32LittleEndian(s[5..]),
            BinaryPrimitives.ReadInt64LittleEndian(s[9..]), BinaryPrimitives.ReadInt64LittleEndian(s[17..]), BinaryPrimitives.ReadInt64LittleEndian(s[25..]))
        {
            Address = address,
            Data = data,
        };
    }

    public static byte[] Encode(ForwardReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var frame = Frame(ReplyHead, reply.Extra, reply.Data, "reply");
        BinaryPrimitives.WriteUInt32LittleEndian(frame, reply.Id);
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(4), reply.Result);
        return frame;
    }

    public static ForwardReply DecodeReply(ReadOnlyMemory<byte> frame)
    {
        var s = frame.Span;
        Check(s.Length >= ReplyHead, $"a forwarded result of {s.Length} bytes is shorter than its header");
        var (extra, data) = Tail(frame, ReplyHead, "a forwarded result's", "extra");
        var result = BinaryPrimitives.ReadInt64LittleEndian(s[4..]);
        Check(result >= -4095 && (result <= MaxData || data.Length == 0), $"a forwarded result of {result}");
        return new ForwardReply(BinaryPrimitives.ReadUInt32LittleEndian(s), result) { Extra = extra, Data = data };
    }

    // Both frames end alike: the last field of the head is the length (u16) of the extra part (a request's address, a
    // reply's extra), which follows the head; the data runs from there to the end of the frame.

    /// <summary>A frame of <paramref name="head"/> bytes of head, its tail filled in; the caller writes the rest of the head.</summary>
    private static byte[] Frame(int head, ReadOnlyMemory<byte> extra, ReadOnlyMemory<byte> data, string what)
    {
        Check(extra.Length <= MaxExtra && data.Length <= MaxData, $"{what} over its bounds");
        var frame = new byte[head + extra.Length + data.Length];
        var s = frame.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(s[(head - 2)..], (ushort)extra.Length);
        extra.Span.CopyTo(s[head..]);
        data.Span.CopyTo(s[(head + extra.Length)..]);
        return frame;
    }

    /// <summary>The extra part and the data of a frame whose head (<paramref name="head"/> bytes) is known to be there.</summary>
    private static (ReadOnlyMemory<byte> Extra, ReadOnlyMemory<byte> Data) Tail(ReadOnlyMemory<byte> frame, int head,
        string whose, string extraName)
    {
        var s = frame.Span;
        var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(s[(head - 2)..]);
        Check(extraLength <= MaxExtra && head + extraLength <= s.Length, $"{whose} {extraName} of {extraLength} bytes");
        var dataLength = s.Length - head - extraLength;
        Check(dataLength <= MaxData, $"{whose} data of {dataLength} bytes (at most {MaxData})");
        return (frame.Slice(head, extraLength), frame[(head + extraLength)..]);
    }

    public static byte[] Encode(ForwardNotice notice) =>
        Encode(new ForwardReply(0, notice.Fd) { Data = BitConverter.GetBytes((ushort)notice.Ready) });

    /// <summary>Whether a frame from home is a readiness notice rather than a call's result.</summary>
    public static bool IsNotice(ReadOnlySpan<byte> frame) => frame.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(frame) == 0;

    public static ForwardNotice DecodeNotice(ReadOnlyMemory<byte> frame)
    {
        var s = frame.Span;
        Check(s.Length == ReplyHead + 2 && IsNotice(s) && BinaryPrimitives.ReadUInt16LittleEndian(s[12..]) == 0, $"a readiness notice of {s.Length} bytes");
        var fd = BinaryPrimitives.ReadInt64LittleEndian(s[4..]);
        Check(fd is >= TerminalNotice and <= MaxDescriptor, $"a readiness notice for fd {fd}");
        var ready = BinaryPrimitives.ReadInt16LittleEndian(s[ReplyHead..]);
        Check(fd != TerminalNotice || ready is >= 0 and <= 2, $"a terminal notice of {ready}");
        return new ForwardNotice((int)fd, ready);
    }

    /// <summary>The descriptor of a notice about home's terminal: its Ready is 0 while the terminal has the deputy's
    /// group in the foreground, 1 while in the background with TOSTOP set, 2 while in the background without TOSTOP
    /// (writes from there run without asking home).</summary>
    public const int TerminalNotice = -1;

    /// <summary>The highest descriptor number a forwarded call may name as new (an accepted or duplicated descriptor).</summary>
    public const int MaxDescriptor = 1 << 20;

    private static void Check(bool ok, string problem)
    {
        if (!ok) throw new LinkException(problem);
    }
}
