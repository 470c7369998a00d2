using System.Buffers.Binary;

namespace OpenMosix.Daemon.Migration.Postcopy;

/// <summary>
/// Pages frames (<see cref="FrameType.Pages"/>) of a post-copy, binary like Forward frames: they are many and hot.
/// A request (copy's node → home): <c>u8 1 | u32 id | u64 address | u32 length</c>, whole pages, at most
/// <see cref="MaxRun"/>. An answer (home → copy's node): <c>u8 2 | u32 id | u8 zero</c>, then the pages' bytes, or
/// none when <c>zero</c> is 1 (every byte was zero); or a refusal <c>u8 3 | u32 id</c> and why, in UTF-8 (home no
/// longer has them). Anything else is a protocol error, a <see cref="LinkException"/>.
/// </summary>
public static class PageWire
{
    public const int PageSize = 4096;
    /// <summary>Far above a fault's window and a push's chunk (256 KiB), below a frame's limit.</summary>
    public const int MaxRun = 512 << 10;
    public const int RequestSize = 17, AnswerHeader = 6, RefusalHeader = 5;
    private const byte RequestKind = 1, AnswerKind = 2, RefusalKind = 3;

    public readonly record struct Request(uint Id, ulong Address, int Length);

    /// <summary>An answer: its pages (empty when <see cref="Zero"/> or refused) or why not.</summary>
    public readonly record struct Answer(uint Id, bool Zero, ReadOnlyMemory<byte> Data, string? Refused);

    public static byte[] EncodeRequest(uint id, ulong address, int length)
    {
        if (length <= 0 || length > MaxRun || length % PageSize != 0 || address % PageSize != 0)
            throw new ArgumentOutOfRangeException(nameof(length), $"a page request of {length} bytes at 0x{address:x}");
        var frame = new byte[RequestSize];
        frame[0] = RequestKind;
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(1), id);
        BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan(5), address);
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(13), length);
        return frame;
    }

    public static Request DecodeRequest(ReadOnlySpan<byte> frame, ushort peer)
    {
        if (frame.Length != RequestSize || frame[0] != RequestKind)
            throw new LinkException($"node {peer} sent a malformed page request ({frame.Length} bytes)");
        var request = new Request(BinaryPrimitives.ReadUInt32LittleEndian(frame[1..]), BinaryPrimitives.ReadUInt64LittleEndian(frame[5..]),
            BinaryPrimitives.ReadInt32LittleEndian(frame[13..]));
        if (request.Length <= 0 || request.Length > MaxRun || request.Length % PageSize != 0 || request.Address % PageSize != 0)
            throw new LinkException($"node {peer} asked for {request.Length} bytes of pages at 0x{request.Address:x} (whole pages, at most {MaxRun})");
        return request;
    }

    /// <summary>An answer frame with room for <paramref name="length"/> bytes of pages after its header, to be read
    /// straight into (<see cref="AnswerHeader"/> on); <see cref="MarkZero"/> cuts it to the header.</summary>
    public static byte[] NewAnswer(uint id, int length)
    {
        var frame = GC.AllocateUninitializedArray<byte>(AnswerHeader + length);
        frame[0] = AnswerKind;
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(1), id);
        frame[5] = 0;
        return frame;
    }

    public static byte[] ZeroAnswer(uint id)
    {
        var frame = NewAnswer(id, 0);
        frame[5] = 1;
        return frame;
    }

    public static byte[] Refusal(uint id, string reason)
    {
        var text = System.Text.Encoding.UTF8.GetBytes(reason.Length > 1000 ? reason[..1000] : reason);
        var frame = new byte[RefusalHeader + text.Length];
        frame[0] = RefusalKind;
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(1), id);
        text.CopyTo(frame.AsSpan(RefusalHeader));
        return frame;
    }

    public static Answer DecodeAnswer(byte[] frame, ushort peer)
    {
        if (frame.Length >= RefusalHeader && frame[0] == RefusalKind)
            return new Answer(BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(1)), false, ReadOnlyMemory<byte>.Empty,
                System.Text.Encoding.UTF8.GetString(frame, RefusalHeader, frame.Length - RefusalHeader));
        if (frame.Length < AnswerHeader || frame[0] != AnswerKind || frame[5] > 1)
            throw new LinkException($"node {peer} sent a malformed page answer ({frame.Length} bytes)");
        var zero = frame[5] == 1;
        if (zero && frame.Length != AnswerHeader)
            throw new LinkException($"node {peer} sent zero pages with {frame.Length - AnswerHeader} bytes");
        return new Answer(BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(1)), zero, frame.AsMemory(AnswerHeader), null);
    }
}
