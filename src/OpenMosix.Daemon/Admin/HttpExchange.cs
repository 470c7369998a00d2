using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace OpenMosix.Daemon.Admin;

/// <summary>One admin request as parsed off the socket.</summary>
public sealed record HttpRequest(string Method, string Path, byte[] Body);

/// <summary>What a route answers: a status and a JSON body, or a body given as it happens (<see cref="Streamed"/>).</summary>
public sealed record HttpResponse(int Status, byte[] Body)
{
    /// <summary>
    /// Set for an answer that comes while the work runs (a move's progress): the server sends the head at once,
    /// without a Content-Length (the body ends when the connection closes), then runs this on a thread of its own.
    /// It hands each line to its argument as it happens and returns the last line.
    /// </summary>
    public Func<Action<byte[]>, byte[]>? Streamed { get; private init; }

    /// <summary>The last line of a streamed answer whose work failed (a bug): from the one-line message.</summary>
    public Func<string, byte[]>? StreamFailed { get; private init; }

    private string ContentType { get; init; } = "application/json";

    public static HttpResponse Json<T>(T value, JsonTypeInfo<T> type, int status = 200) =>
        new(status, JsonSerializer.SerializeToUtf8Bytes(value, type));

    /// <summary>An answer of lines of <paramref name="mediaType"/> produced while <paramref name="produce"/> runs;
    /// <paramref name="failed"/> makes the last line when it throws.</summary>
    public static HttpResponse Stream(string mediaType, Func<Action<byte[]>, byte[]> produce, Func<string, byte[]> failed) =>
        new(200, []) { Streamed = produce, StreamFailed = failed, ContentType = mediaType };

    public static HttpResponse Error(int status, string message) =>
        Json(new ErrorReply(message), AdminJsonContext.Default.ErrorReply, status);

    public byte[] Encode()
    {
        var length = Streamed is null ? $"Content-Length: {Body.Length}\r\n" : "";
        var head = $"HTTP/1.1 {Status} {Reason(Status)}\r\nContent-Type: {ContentType}\r\n{length}Connection: close\r\n\r\n";
        return [.. Encoding.ASCII.GetBytes(head), .. Body];
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        431 => "Request Header Fields Too Large",
        _ => "Internal Server Error",
    };
}

/// <summary>A request that is not HTTP we accept; the status says which way it is wrong.</summary>
public sealed class BadRequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
