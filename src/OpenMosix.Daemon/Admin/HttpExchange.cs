using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using OpenMosix.Admin;

namespace OpenMosix.Daemon.Admin;

/// <summary>One admin request as parsed off the socket.</summary>
public sealed record HttpRequest(string Method, string Path, byte[] Body);

/// <summary>What a route answers: a status and a JSON body.</summary>
public sealed record HttpResponse(int Status, byte[] Body)
{
    public static HttpResponse Json<T>(T value, JsonTypeInfo<T> type, int status = 200) =>
        new(status, JsonSerializer.SerializeToUtf8Bytes(value, type));

    public static HttpResponse Error(int status, string message) =>
        Json(new ErrorReply(message), AdminJsonContext.Default.ErrorReply, status);

    public byte[] Encode()
    {
        var head = $"HTTP/1.1 {Status} {Reason(Status)}\r\nContent-Type: application/json\r\n" +
                   $"Content-Length: {Body.Length}\r\nConnection: close\r\n\r\n";
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
