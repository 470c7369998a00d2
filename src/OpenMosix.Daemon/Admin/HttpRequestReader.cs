using System.Text;

namespace OpenMosix.Daemon.Admin;

/// <summary>
/// Reads one HTTP/1.1 request with hard bounds: the head may not exceed <see cref="MaxHeadBytes"/> nor hold more than
/// <see cref="MaxHeaders"/> header lines, a body needs a Content-Length of at most <see cref="MaxBodyBytes"/> (no
/// chunked encoding). Anything else is a 4xx, not a hang or an allocation a caller controls.
/// </summary>
public static class HttpRequestReader
{
    public const int MaxHeadBytes = 16 * 1024;
    public const int MaxBodyBytes = 1024 * 1024;
    public const int MaxHeaders = 64;

    public static async Task<HttpRequest> ReadAsync(Stream stream, CancellationToken cancel)
    {
        var buffer = new byte[MaxHeadBytes];
        var filled = 0;
        int headEnd;
        while ((headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (filled == buffer.Length) throw new BadRequestException(431, "request head larger than 16 KiB");
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancel).ConfigureAwait(false);
            if (read == 0) throw new BadRequestException(400, "connection closed inside the request head");
            filled += read;
        }
        var head = Encoding.ASCII.GetString(buffer, 0, headEnd).Split("\r\n");
        var requestLine = head[0].Split(' ');
        if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal)
            || requestLine[1].Length == 0 || requestLine[1][0] != '/')
            throw new BadRequestException(400, "malformed request line");
        if (head.Length - 1 > MaxHeaders) throw new BadRequestException(431, $"more than {MaxHeaders} header lines");
        var length = 0;
        foreach (var line in head.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) throw new BadRequestException(400, "malformed header line");
            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out length))
                    throw new BadRequestException(400, "bad Content-Length");
                if (length > MaxBodyBytes) throw new BadRequestException(413, "request body larger than 1 MiB");
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                throw new BadRequestException(400, "chunked requests are not accepted; send Content-Length");
            }
        }
        var body = new byte[length];
        var already = Math.Min(length, filled - (headEnd + 4));
        buffer.AsSpan(headEnd + 4, already).CopyTo(body);
        if (already < length)
            await stream.ReadExactlyAsync(body.AsMemory(already), cancel).ConfigureAwait(false);
        var path = requestLine[1];
        var query = path.IndexOf('?', StringComparison.Ordinal);
        return new HttpRequest(requestLine[0], query < 0 ? path : path[..query], body);
    }
}
