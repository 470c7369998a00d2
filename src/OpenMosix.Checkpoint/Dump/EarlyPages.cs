using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace OpenMosix.Checkpoint.Dump;

/// <summary>
/// Gathers a frozen process's pages on a thread of its own while the tracer thread still reads its state and injects
/// calls into it, instead of after. The injected calls (a scratch mapping, sigactions, timers, each thread's settings)
/// take one to two milliseconds of ptrace stops, most of it waiting for the tracee to be scheduled, with the second
/// core idle: about a tenth of a 64 MiB dump (issue #20). They change no page outside their scratch mapping, which is
/// not in the regions read before it was made, so the pages gathered meanwhile are the pages of the final image.
/// The sink sees nothing until <see cref="Release"/> hands over the metadata: its first item waits for it, the
/// gatherer fills the free chunk slots meanwhile and then waits too. Should the layout read after the injections
/// differ from the one gathered from (<see cref="SameContents"/>), the gathered chunks are dropped (<see cref="Abandon"/>)
/// and the pages are copied as before, after the metadata. Not used for a pre-copy's final image, whose regions are
/// planned from the final layout.
/// </summary>
internal sealed class EarlyPages
{
    private readonly TaskCompletionSource<ProcessImage?> _metadata = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ExceptionDispatchInfo? _failure;

    private EarlyPages(IReadOnlyList<MemoryRegion> regions) => Regions = regions;

    /// <summary>The layout the pages are gathered from (read before the first injected call).</summary>
    public IReadOnlyList<MemoryRegion> Regions { get; }
    public ulong StoredBytes { get; private set; }
    public ulong ScannedBytes { get; private set; }
    public (TimeSpan Select, TimeSpan Read, TimeSpan WaitForSink, int Chunks) Breakdown { get; private set; }
    /// <summary>From the metadata's release to the last chunk at the sink.</summary>
    public TimeSpan AfterRelease { get; private set; }
    /// <summary>Completes when every page is at the sink, or the gathering failed or was abandoned.</summary>
    public Task Done => _done.Task;

    public static EarlyPages Start(int pid, IReadOnlyList<MemoryRegion> regions, IImageSink sink, DumpOptions options)
    {
        var early = new EarlyPages(regions);
        new Thread(() => early.Gather(pid, sink, options)) { IsBackground = true, Name = "om-dump-early" }.Start();
        return early;
    }

    /// <summary>Whether two layouts hold the same pages to copy: the same regions with contents, alike in every
    /// field the copier looks at.</summary>
    public static bool SameContents(IReadOnlyList<MemoryRegion> before, IReadOnlyList<MemoryRegion> after)
    {
        var a = before.Where(RegionBuilder.HasContents).ToList();
        var b = after.Where(RegionBuilder.HasContents).ToList();
        return a.Count == b.Count && a.Zip(b).All(p => p.First.Start == p.Second.Start && p.First.End == p.Second.End
            && p.First.Kind == p.Second.Kind && p.First.Protection == p.Second.Protection && p.First.Shared == p.Second.Shared
            && p.First.AllPagesStored == p.Second.AllPagesStored && p.First.FileSize == p.Second.FileSize
            && p.First.FileOffset == p.Second.FileOffset);
    }

    /// <summary>Lets the gathered pages go to the sink, after <paramref name="image"/>'s metadata.</summary>
    public void Release(ProcessImage image) => _metadata.TrySetResult(image);

    /// <summary>Waits until every page is at the sink and the sink completed; rethrows what the gathering or the sink threw.</summary>
    public void Finish()
    {
        _done.Task.Wait();
        _failure?.Throw();
    }

    /// <summary>Drops what was gathered (nothing reaches the sink) and waits for the gatherer to stop. Harmless after
    /// <see cref="Finish"/>.</summary>
    public void Abandon()
    {
        _metadata.TrySetResult(null);
        _done.Task.Wait();
    }

    private void Gather(int pid, IImageSink sink, DumpOptions options)
    {
        Stopwatch? released = null;
        try
        {
            using var copier = new MemoryCopier(pid);
            // First in the sink's order: nothing gathered reaches it before the metadata, nor at all once abandoned
            // (a failed item makes the pipeline let the rest through unemitted and the gatherer's next slot throw).
            copier.First(() =>
            {
                var image = _metadata.Task.GetAwaiter().GetResult() ?? throw new OperationCanceledException("early pages abandoned");
                released = Stopwatch.StartNew();
                sink.WriteMetadata(image);
            });
            foreach (var region in Regions.Where(RegionBuilder.HasContents))
            {
                if (options.LeaveLazyMemory && Postcopy.LazyMemory.IsLazy(region)) continue;
                copier.Copy(region, sink, options.BytesWritten);
            }
            copier.Finish();
            sink.Complete();
            (StoredBytes, ScannedBytes, Breakdown) = (copier.StoredBytes, copier.ScannedBytes, copier.Breakdown);
            AfterRelease = released?.Elapsed ?? TimeSpan.Zero;
        }
        catch (Exception e)
        {
            _failure = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            _done.TrySetResult();
        }
    }
}
