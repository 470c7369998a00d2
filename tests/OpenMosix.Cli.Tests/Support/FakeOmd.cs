using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>
/// Stands in for omd on an admin socket of its own (om finds it through OM_SOCKET): each request gets what
/// <c>answer</c> makes of its body, written as it comes (head and body lines, each a chunk of the answer), then the
/// connection closes, as omd closes it. Keeps the request bodies it was sent.
/// </summary>
internal sealed class FakeOmd : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly Func<string, IEnumerable<string>> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    public FakeOmd(string socketPath, Func<string, IEnumerable<string>> answer)
    {
        SocketPath = socketPath;
        _answer = answer;
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        _listener.Listen(8);
        _serving = Task.Run(ServeAsync);
    }

    public string SocketPath { get; }

    public ConcurrentQueue<string> Bodies { get; } = new();

    /// <summary>A whole answer of JSON with its length, as omd gives one result.</summary>
    public static string Json(string body) =>
        $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";

    /// <summary>The head of an answer whose lines follow until the connection closes.</summary>
    public const string StreamHead = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n";

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // The listener was closed under the accept.
        }
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using var client = await _listener.AcceptAsync(_stop.Token);
            await using var stream = new NetworkStream(client);
            var body = await ReadBodyAsync(stream);
            Bodies.Enqueue(body);
            foreach (var part in _answer(body))
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(part), _stop.Token);
                await stream.FlushAsync(_stop.Token);
            }
        }
    }

    private async Task<string> ReadBodyAsync(NetworkStream stream)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        int headEnd;
        while ((headEnd = Encoding.ASCII.GetString([.. received]).IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
        {
            var read = await stream.ReadAsync(buffer, _stop.Token);
            if (read == 0) return "";
            received.AddRange(buffer.AsSpan(0, read));
        }
        var head = Encoding.ASCII.GetString([.. received], 0, headEnd);
        var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        var length = lengthLine is null ? 0 : int.Parse(lengthLine["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
        while (received.Count < headEnd + 4 + length)
        {
            var read = await stream.ReadAsync(buffer, _stop.Token);
            if (read == 0) break;
            received.AddRange(buffer.AsSpan(0, read));
        }
        return Encoding.UTF8.GetString([.. received], headEnd + 4, received.Count - headEnd - 4);
    }
}
