using System.Text;
using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.Daemon.Admin;
using OpenMosix.Fuzz.Tests.Engine;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>
/// The admin socket's request reader over the bytes a client sent (then closed): refusal is a
/// <see cref="BadRequestException"/> with a 4xx status, or the end of the stream inside a body whose length was
/// promised (the server then drops the connection); an accepted request has a path and a body within the bounds.
/// </summary>
public sealed class HttpRequestTarget : FuzzTarget
{
    public override string Name => "http";
    public override IReadOnlyList<Type> Refusals { get; } = [typeof(BadRequestException), typeof(EndOfStreamException)];

    public override IReadOnlyList<byte[]> Dictionary { get; } = Mutator.Tokens(
        "\r\n", "\r\n\r\n", ":", " ", "Content-Length: ", "content-length:", "Transfer-Encoding: chunked", "-1", "0", "1048576",
        "1048577", "2147483648", "HTTP/1.1", "HTTP/1.0", "HTTP/2", "/v1/procs/1/migrate", "?", "\0", "\u00ff");

    public override IEnumerable<(string Name, byte[] Data)> Seeds()
    {
        yield return ("get-health.http", Request("GET", "/v1/health", null));
        yield return ("put-map.http", Request("PUT", "/v1/map",
            JsonSerializer.SerializeToUtf8Bytes(new MapUpload("/etc/openmosix.map", "1 10.0.0.1 2\n", "setpe"), AdminJsonContext.Default.MapUpload)));
        yield return ("post-migrate.http", Request("POST", "/v1/procs/4242/migrate?wait=1",
            JsonSerializer.SerializeToUtf8Bytes(new MigrateRequest("2", true), AdminJsonContext.Default.MigrateRequest)));
    }

    /// <summary>What HttpClient sends over the unix socket for `om`.</summary>
    private static byte[] Request(string method, string path, byte[]? body)
    {
        var head = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: omd\r\n");
        if (body is not null) head.Append("Content-Type: application/json\r\n").Append("Content-Length: ").Append(body.Length).Append("\r\n");
        head.Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. body ?? []];
    }

    public override bool Run(byte[] input)
    {
        HttpRequest request;
        try
        {
            request = HttpRequestReader.ReadAsync(new MemoryStream(input, writable: false), CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (BadRequestException e) when (e.Status is < 400 or > 499)
        {
            throw new PropertyViolation($"a bad request answered with status {e.Status}");
        }
        if (!request.Path.StartsWith('/') || request.Path.Contains('?', StringComparison.Ordinal) || request.Body.Length > HttpRequestReader.MaxBodyBytes)
            throw new PropertyViolation($"accepted a request for '{request.Path}' with a body of {request.Body.Length} bytes");
        return true;
    }
}
