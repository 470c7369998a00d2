using OpenMosix.Checkpoint.Image;

namespace OpenMosix.TestSupport;

/// <summary>An image held in memory: a sink for a dump and then a source for a restore (engine tests).</summary>
public sealed class InMemoryImage : IImageSink, IImageSource
{
    private readonly List<(ulong Address, byte[] Data)> _runs = [];
    private ProcessImage? _metadata;
    private int _next;

    public bool Completed { get; private set; }
    public ProcessImage Metadata => _metadata ?? throw new InvalidOperationException("no metadata written");
    public IReadOnlyList<(ulong Address, byte[] Data)> Runs => _runs;
    public ulong PageBytes => (ulong)_runs.Sum(r => (long)r.Data.Length);

    public void WriteMetadata(ProcessImage image)
    {
        if (_metadata is not null) throw new InvalidOperationException("metadata written twice");
        _metadata = image;
    }

    public void WritePages(ulong address, ReadOnlySpan<byte> data)
    {
        if (_metadata is null) throw new InvalidOperationException("pages before metadata");
        if (Completed) throw new InvalidOperationException("pages after completion");
        if (_runs.Count > 0 && address < _runs[^1].Address + (ulong)_runs[^1].Data.Length)
            throw new InvalidOperationException($"page run at 0x{address:x} is not in ascending order");
        _runs.Add((address, data.ToArray()));
    }

    public void Complete() => Completed = true;

    public ProcessImage ReadMetadata()
    {
        if (!Completed) throw new CorruptImageException("image is incomplete");
        _next = 0;
        return Metadata;
    }

    /// <summary>Never used: every run is in memory already.</summary>
    public Action<Task>? WaitForSection { get; set; }

    public PageRun? ReadNextPageRun() => _next < _runs.Count ? new PageRun(_runs[_next].Address, _runs[_next++].Data) : null;
}
