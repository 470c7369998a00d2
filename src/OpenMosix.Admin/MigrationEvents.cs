using System.Text;
using System.Text.Json;

namespace OpenMosix.Admin;

/// <summary>
/// The progress stream of a move on the wire: newline-delimited JSON (one compact <see cref="MigrationEvent"/> per
/// line, media type <see cref="MediaType"/>), the body of a response that ends when omd closes the connection.
/// </summary>
public static class MigrationEvents
{
    public const string MediaType = "application/x-ndjson";

    private static readonly JsonWriterOptions OneLine = new() { Indented = false };

    /// <summary>An event as one line, its newline included.</summary>
    public static byte[] Line(MigrationEvent value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, OneLine))
            JsonSerializer.Serialize(writer, value, AdminJsonContext.Default.MigrationEvent);
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>
    /// Reads a stream to its outcome: each progress event goes to <paramref name="progress"/>, the result is returned,
    /// an error line becomes an <see cref="AdminException"/>. A line must arrive within <paramref name="idle"/>; a
    /// stream that ends without an outcome means omd stopped in the middle of the move.
    /// </summary>
    private const string StoppedMidMove = "omd closed the connection before the move ended (was it stopped?)";

    public static async Task<MigrationResult> ReadAsync(Stream stream, IProgress<MigrationProgress>? progress, TimeSpan idle,
        CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 4096, leaveOpen: true);
        while (true)
        {
            string? line;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancel))
            {
                wait.CancelAfter(idle);
                try
                {
                    line = await reader.ReadLineAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                    throw new AdminException($"omd reported nothing on the move for {idle.TotalSeconds:0.#} s");
                }
                catch (IOException e)
                {
                    throw new AdminException(StoppedMidMove, 0, e);
                }
            }
            if (line is null) throw new AdminException(StoppedMidMove);
            if (line.Length == 0) continue;
            MigrationEvent? next;
            try
            {
                next = JsonSerializer.Deserialize(line, AdminJsonContext.Default.MigrationEvent);
            }
            catch (JsonException e)
            {
                throw new AdminException($"omd sent a progress line that is not an event: {e.Message.ReplaceLineEndings(" ")}", 0, e);
            }
            switch (next)
            {
                case { Result: { } result }:
                    return result;
                case { Error: { } error }:
                    throw new AdminException(error, next.Status);
                case { Progress: { } step }:
                    progress?.Report(step);
                    break;
            }
        }
    }
}
