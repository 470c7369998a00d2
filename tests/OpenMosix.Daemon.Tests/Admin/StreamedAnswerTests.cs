using System.Net.Sockets;
using System.Text;
using OpenMosix.Daemon.Admin;

namespace OpenMosix.Daemon.Tests.Admin;

/// <summary>An answer sent while its work runs: the head at once, lines as they happen, the last when it ends.</summary>
public sealed class StreamedAnswerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Each_line_reaches_the_client_while_the_work_still_runs_and_the_last_line_ends_the_answer()
    {
        var (server, client) = Pair();
        using var reader = new StreamReader(client);
        using var firstLineRead = new ManualResetEventSlim();
        var response = HttpResponse.Stream("application/x-ndjson",
            send =>
            {
                send("step 1\n"u8.ToArray());
                // The work goes on only once the client has the step: it was sent before the work ended.
                Assert.True(firstLineRead.Wait(Bound), "the client never got the first step");
                return "done\n"u8.ToArray();
            },
            failure => Encoding.UTF8.GetBytes(failure + "\n"));

        var sending = StreamedAnswer.SendAsync(server, response, Bound, _ => { }, TestContext.Current.CancellationToken);
        var head = await ReadHeadAsync(reader);
        var first = await reader.ReadLineAsync(TestContext.Current.CancellationToken);
        firstLineRead.Set();
        await sending.WaitAsync(Bound, TestContext.Current.CancellationToken);
        await server.DisposeAsync();

        Assert.Contains("HTTP/1.1 200 OK", head, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/x-ndjson", head, StringComparison.Ordinal);
        Assert.DoesNotContain("Content-Length", head, StringComparison.Ordinal);
        Assert.Equal("step 1", first);
        Assert.Equal("done\n", await reader.ReadToEndAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Work_that_throws_ends_the_answer_with_its_failure_line_and_is_reported()
    {
        var (server, client) = Pair();
        using var reader = new StreamReader(client);
        Exception? reported = null;
        var response = HttpResponse.Stream("application/x-ndjson", _ => throw new InvalidOperationException("a bug"),
            failure => Encoding.UTF8.GetBytes(failure + "\n"));

        await StreamedAnswer.SendAsync(server, response, Bound, e => reported = e, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
        await server.DisposeAsync();
        await ReadHeadAsync(reader);

        Assert.Equal("omd failed: InvalidOperationException: a bug\n", await reader.ReadToEndAsync(TestContext.Current.CancellationToken));
        Assert.IsType<InvalidOperationException>(reported);
    }

    /// <summary>Both ends of a loopback connection, as omd and a client hold them.</summary>
    private static (NetworkStream Server, NetworkStream Client) Pair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        return (new NetworkStream(listener.Accept(), ownsSocket: true), new NetworkStream(client, ownsSocket: true));
    }

    private static async Task<string> ReadHeadAsync(StreamReader reader)
    {
        var head = new StringBuilder();
        while (await reader.ReadLineAsync(TestContext.Current.CancellationToken) is { Length: > 0 } line) head.AppendLine(line);
        return head.ToString();
    }
}
