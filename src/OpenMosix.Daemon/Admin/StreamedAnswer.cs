using System.Net.Sockets;
using System.Threading.Channels;

namespace OpenMosix.Daemon.Admin;

/// <summary>
/// Sends an answer that comes while its work runs (<see cref="HttpResponse.Streamed"/>): the head at once, each line
/// the work hands over as it happens, its last line when it ends. Each write must finish within the write timeout, not
/// the whole answer, so a move of many minutes is never cut. A client slower than the work gets only the newest line
/// waiting (progress, not a log: older ones give way). A client that stops reading or goes away is sent nothing more;
/// the work runs on to its end regardless (a move is not called off because its watcher left).
/// </summary>
internal sealed class StreamedAnswer(Stream stream, TimeSpan writeTimeout, CancellationToken stopping)
{
    private bool _gone;

    /// <param name="bug">Hears what the work threw: a bug, which the client learns of in one last line.</param>
    public static async Task SendAsync(Stream stream, HttpResponse response, TimeSpan writeTimeout, Action<Exception> bug,
        CancellationToken stopping)
    {
        var produce = response.Streamed ?? throw new ArgumentException("not a streamed answer", nameof(response));
        var answer = new StreamedAnswer(stream, writeTimeout, stopping);
        var lines = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        await answer.WriteAsync(response.Encode()).ConfigureAwait(false);
        var pump = answer.PumpAsync(lines.Reader);
        byte[] last;
        try
        {
            last = await Migration.Blocking.Run(() => produce(line => lines.Writer.TryWrite(line))).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            bug(e);
            last = response.StreamFailed!($"omd failed: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            lines.Writer.Complete();
            await pump.ConfigureAwait(false);
        }
        await answer.WriteAsync(last).ConfigureAwait(false);
    }

    private async Task PumpAsync(ChannelReader<byte[]> lines)
    {
        await foreach (var line in lines.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            await WriteAsync(line).ConfigureAwait(false);
    }

    private async Task WriteAsync(byte[] bytes)
    {
        if (_gone) return;
        try
        {
            using var writing = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            writing.CancelAfter(writeTimeout);
            await stream.WriteAsync(bytes, writing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            _gone = true;
        }
    }
}
