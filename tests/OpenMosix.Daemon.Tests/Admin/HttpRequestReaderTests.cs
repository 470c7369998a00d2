using System.Text;
using OpenMosix.Daemon.Admin;

namespace OpenMosix.Daemon.Tests.Admin;

public sealed class HttpRequestReaderTests
{
    private static Task<HttpRequest> Read(string raw) =>
        HttpRequestReader.ReadAsync(new MemoryStream(Encoding.ASCII.GetBytes(raw)), CancellationToken.None);

    [Fact]
    public async Task A_request_with_a_body_is_read_whole_and_its_query_dropped()
    {
        var request = await Read("PUT /v1/map?x=1 HTTP/1.1\r\nHost: omd\r\nContent-Length: 5\r\n\r\nhello");
        Assert.Equal(("PUT", "/v1/map", "hello"), (request.Method, request.Path, Encoding.ASCII.GetString(request.Body)));
    }

    [Fact]
    public async Task A_body_that_arrives_in_pieces_is_assembled()
    {
        var stream = new PieceStream("PUT /v1/speed HTTP/1.1\r\nContent-Len", "gth: 10\r\n\r\n01234", "567", "89");
        var request = await HttpRequestReader.ReadAsync(stream, CancellationToken.None);
        Assert.Equal("0123456789", Encoding.ASCII.GetString(request.Body));
    }

    [Theory]
    [InlineData("GARBAGE\r\n\r\n", 400)]
    [InlineData("GET v1/nodes HTTP/1.1\r\n\r\n", 400)]
    [InlineData("GET /v1/nodes HTTP/1.1\r\nno colon here\r\n\r\n", 400)]
    [InlineData("PUT /v1/map HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400)]
    [InlineData("PUT /v1/map HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 413)]
    [InlineData("PUT /v1/map HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400)]
    [InlineData("GET /v1/nodes HTTP/1.1\r\n", 400)]
    public async Task A_malformed_or_oversized_request_gets_a_client_error(string raw, int status)
    {
        var error = await Assert.ThrowsAsync<BadRequestException>(() => Read(raw));
        Assert.Equal(status, error.Status);
    }

    [Fact]
    public async Task A_head_larger_than_the_bound_is_refused_without_reading_on()
    {
        var raw = "GET /v1/nodes HTTP/1.1\r\nX-Pad: " + new string('a', HttpRequestReader.MaxHeadBytes) + "\r\n\r\n";
        var error = await Assert.ThrowsAsync<BadRequestException>(() => Read(raw));
        Assert.Equal(431, error.Status);
    }

    [Fact]
    public async Task More_header_lines_than_the_bound_are_refused_even_in_a_small_head()
    {
        var headers = string.Concat(Enumerable.Range(0, HttpRequestReader.MaxHeaders + 1).Select(i => $"X-{i}: 1\r\n"));
        var error = await Assert.ThrowsAsync<BadRequestException>(() => Read($"GET /v1/nodes HTTP/1.1\r\n{headers}\r\n"));
        Assert.Equal(431, error.Status);
        Assert.Equal("GET", (await Read($"GET /v1/nodes HTTP/1.1\r\n{headers[(headers.IndexOf('\n') + 1)..]}\r\n")).Method);
    }
}

/// <summary>Hands out its text one piece per read, as a socket does when data trickles in.</summary>
internal sealed class PieceStream(params string[] pieces) : Stream
{
    private Queue<byte[]> _pieces = new(pieces.Select(Encoding.ASCII.GetBytes));

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (!_pieces.TryPeek(out var piece)) return 0;
        var n = Math.Min(count, piece.Length);
        piece.AsSpan(0, n).CopyTo(buffer.AsSpan(offset));
        _pieces.Dequeue();
        if (n < piece.Length) _pieces = new Queue<byte[]>(_pieces.Prepend(piece[n..]));
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
