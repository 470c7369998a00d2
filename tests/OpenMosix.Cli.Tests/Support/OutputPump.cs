using System.Text;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>Copies a pipe into memory as it arrives, so tests can wait on "has printed N bytes/lines".</summary>
internal sealed class OutputPump
{
    private readonly MemoryStream buffer = new();
    private readonly Lock gate = new();
    private int lines;

    public OutputPump(Stream source)
    {
        Completion = Task.Run(() => PumpAsync(source));
    }

    public Task Completion { get; }

    public bool Finished => Completion.IsCompleted;

    public long Length
    {
        get { lock (gate) return buffer.Length; }
    }

    public int Lines => Volatile.Read(ref lines);

    public string Text => Encoding.UTF8.GetString(Snapshot());

    public byte[] Snapshot()
    {
        lock (gate) return buffer.ToArray();
    }

    private async Task PumpAsync(Stream source)
    {
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await source.ReadAsync(chunk)) > 0)
        {
            lock (gate) buffer.Write(chunk, 0, read);
            Interlocked.Add(ref lines, chunk.AsSpan(0, read).Count((byte)'\n'));
        }
    }
}
