using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Daemon.Migration.Checkpoints;
using OpenMosix.Daemon.Migration.Engine;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// Periodic checkpoints of a guest, sent home over its link while it runs (docs/reliability.md): the first one whole
/// (a pre-copy round of every touched page while it runs, then a brief freeze for the rest), each later one only the
/// pages written since (the same write tracking, kept between checkpoints). The final image is dumped into memory
/// while the process is frozen and sent once it runs again, so the freeze lasts as long as the dump and not as the
/// network; output and input are counted in the same freeze. One checkpoint at a time, and none during a trip home.
/// A checkpoint waits while this node or home is short of memory (<see cref="CheckpointDeferral"/>).
/// </summary>
internal sealed class Checkpointer(IMigrationEngine engine, Conversation talk, int guestPid, TimeSpan interval,
    IReadOnlyDictionary<int, (SafeFileHandle Pipe, PumpedBytes Counted)> outputs, GuestInput? input, ILogger logger)
{
    /// <summary>What each checkpoint is weighed against first; null: taken on every tick.</summary>
    public CheckpointConditions? Conditions { get; init; }

    /// <summary>How long home may take to store a checkpoint before the next one starts whole.</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _imaging = new(1, 1);
    private IPrecopyRounds? _session;
    private long _sequence;
    private volatile TaskCompletionSource<CheckpointStored>? _answer;
    private volatile TaskCompletionSource<CheckpointGo>? _go;
    // Cancelled when a trip home wants the process: a checkpoint stops waiting for home's answer, which the relay
    // would only read after the trip. Replaced under the imaging lock.
    private CancellationTokenSource _pause = new();
    // What the next image is guessed from: the resident size at the last checkpoint and the last final image.
    private long _residentAtLast = -1, _lastFinalBytes;
    private string? _deferred;

    public async Task RunAsync(CancellationToken cancel)
    {
        _residentAtLast = Resident() ?? -1;
        try
        {
            using var timer = new PeriodicTimer(interval);
            while (await timer.WaitForNextTickAsync(cancel).ConfigureAwait(false))
            {
                if (Deferral() is { } why)
                {
                    Defer(why);
                    continue;
                }
                await _imaging.WaitAsync(cancel).ConfigureAwait(false);
                try
                {
                    if (!await TakeAsync(cancel).ConfigureAwait(false)) return;
                }
                catch (Exception e) when (e is not OperationCanceledException and not LinkException and not OutOfMemoryException)
                {
                    // A checkpoint that could not start (the process refused for the moment, a call on it failed)
                    // costs that checkpoint alone: the guest runs on, its exit still goes home, the next one is whole.
                    CheckpointLog.NotTaken(logger, guestPid, Interlocked.Read(ref _sequence), e.Message);
                    _session?.Dispose();
                    _session = null;
                }
                finally
                {
                    _imaging.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The stay is over.
        }
        catch (LinkException)
        {
            // Home is gone: the relay finds out.
        }
        finally
        {
            _session?.Dispose();
        }
    }

    /// <summary>Home's answer to a checkpoint.</summary>
    public void Answered(CheckpointStored stored)
    {
        if (stored.Sequence == Interlocked.Read(ref _sequence)) _answer?.TrySetResult(stored);
    }

    /// <summary>Home's answer to the question whether a checkpoint may be sent now.</summary>
    public void Answered(CheckpointGo go)
    {
        if (go.Sequence == Interlocked.Read(ref _sequence)) _go?.TrySetResult(go);
    }

    private void Defer(string why)
    {
        if (_deferred is null) CheckpointLog.Deferred(logger, guestPid, why);
        _deferred = why;
    }

    /// <summary>
    /// Asks home whether it takes a checkpoint now; why not, or null. Home's silence or a trip home counts as a no.
    /// </summary>
    private async Task<string?> AskHomeAsync(long sequence, CancellationToken cancel)
    {
        var go = new TaskCompletionSource<CheckpointGo>(TaskCreationOptions.RunContinuationsAsynchronously);
        _go = go;
        await talk.SendAsync(new CheckpointAsk(sequence), cancel).ConfigureAwait(false);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancel, _pause.Token);
        try
        {
            return (await go.Task.WaitAsync(AnswerTimeout, waiting.Token).ConfigureAwait(false)).Wait;
        }
        catch (TimeoutException)
        {
            return $"home did not answer within {AnswerTimeout.TotalSeconds:F0} s";
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return "home asked for the process meanwhile";
        }
    }

    /// <summary>
    /// A trip home takes the process's image now: no checkpoint until the returned handle is disposed, and the write
    /// tracking ends (the trip starts its own; the next checkpoint is whole).
    /// </summary>
    public async Task<IDisposable> PauseAsync(CancellationToken cancel)
    {
        await _pause.CancelAsync().ConfigureAwait(false);
        await _imaging.WaitAsync(cancel).ConfigureAwait(false);
        _pause.Dispose();
        _pause = new CancellationTokenSource();
        _session?.Dispose();
        _session = null;
        return new Paused(_imaging);
    }

    /// <summary>Why the checkpoint due now waits, or null. The image held here is about what the process wrote since
    /// the last one: at least its growth, and as much as the last final image for one that rewrites its memory.</summary>
    private string? Deferral()
    {
        if (Conditions is not { } conditions || Resident() is not { } resident) return null;
        if (_residentAtLast < 0) _residentAtLast = resident;
        return conditions.Deferral(Math.Max(_lastFinalBytes, resident - _residentAtLast));
    }

    private long? Resident()
    {
        try
        {
            return OpenMosix.Linux.Proc.ProcFs.ReadResidentBytes(guestPid);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>One checkpoint; false when none can ever be taken (no write tracking on this kernel).</summary>
    private async Task<bool> TakeAsync(CancellationToken cancel)
    {
        var asked = Interlocked.Increment(ref _sequence);
        if (await AskHomeAsync(asked, cancel).ConfigureAwait(false) is { } wait)
        {
            Defer(wait);
            return true;
        }
        if (_deferred is not null) CheckpointLog.Resumed(logger, guestPid);
        _deferred = null;
        var whole = _session is null;
        _session ??= await HeldAsync(() => Blocking.Run(() => engine.StartPrecopy(guestPid))).ConfigureAwait(false);
        if (_session is not { } session)
        {
            CheckpointLog.Unsupported(logger, guestPid);
            return false;
        }
        var sequence = asked;
        var answer = new TaskCompletionSource<CheckpointStored>(TaskCreationOptions.RunContinuationsAsynchronously);
        _answer = answer;
        await talk.SendAsync(new CheckpointFollows(sequence, whole), cancel).ConfigureAwait(false);
        var (bytes, frozen, counts, failure) = await SendImagesAsync(session, sequence, whole).ConfigureAwait(false);
        if (counts is not null) await talk.SendAsync(counts, cancel).ConfigureAwait(false);
        string? refused;
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancel, _pause.Token);
        try
        {
            refused = (await answer.Task.WaitAsync(AnswerTimeout, waiting.Token).ConfigureAwait(false)).Refused;
        }
        catch (TimeoutException)
        {
            refused = $"home did not answer within {AnswerTimeout.TotalSeconds:F0} s";
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            refused = "home asked for the process meanwhile";
        }
        refused ??= failure;
        if (refused is not null)
        {
            CheckpointLog.NotKept(logger, guestPid, sequence, refused);
            session.Dispose();
            _session = null;
            return true;
        }
        CheckpointLog.Sent(logger, guestPid, sequence, whole ? "whole" : "incremental", bytes, frozen.TotalMilliseconds);
        return true;
    }

    /// <summary>
    /// The round (if whole) and the final image on the link. A dump that fails sends an empty final image instead
    /// (home refuses it, and no counts follow): home reads the same frames either way.
    /// </summary>
    private async Task<(long Bytes, TimeSpan Frozen, CheckpointCounts? Counts, string? Failure)> SendImagesAsync(
        IPrecopyRounds session, long sequence, bool whole)
    {
        var bytes = 0L;
        string? failure = null;
        if (whole)
        {
            try
            {
                bytes += await LinkImageWriteStream.SendAsync(talk.Link, session.WriteRound).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not LinkException and not OutOfMemoryException)
            {
                failure = e.Message;
            }
        }
        // An anonymous in-memory file rather than the managed heap: its memory goes back the moment it is closed,
        // where a growing array would hold up to twice the image, and keep it, on a node that may be short of memory.
        using var image = new FileStream(OpenMosix.Linux.Descriptors.CreateMemoryFile("checkpoint", []), FileAccess.ReadWrite, 1 << 16);
        var frozen = TimeSpan.Zero;
        CheckpointCounts? counts = null;
        if (failure is null)
        {
            try
            {
                (frozen, counts) = await HeldAsync(() => Blocking.Run(() => Freeze(session, image, sequence))).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not LinkException and not OutOfMemoryException)
            {
                failure = e.Message;
            }
        }
        _lastFinalBytes = image.Length;
        image.Position = 0;
        bytes += await LinkImageWriteStream.SendAsync(talk.Link, wire =>
        {
            if (counts is not null) image.CopyTo(wire);
        }).ConfigureAwait(false);
        return (bytes, frozen, counts, failure);
    }

    /// <summary>
    /// A stop of the copy (the write tracking's set-up, the freeze) with its forwarded calls held: one served at home
    /// while the stop interrupted its wait would be made again once the copy runs. A call that waits at home (a read
    /// with nothing to read) is not waited for beyond <see cref="ForwardedCallPatience"/>: it was not carried out.
    /// </summary>
    private async Task<T> HeldAsync<T>(Func<Task<T>> stop)
    {
        if (Forwarder is not { } forwarder) return await stop().ConfigureAwait(false);
        await forwarder.QuiesceAsync(ForwardedCallPatience).ConfigureAwait(false);
        try
        {
            return await stop().ConfigureAwait(false);
        }
        finally
        {
            forwarder.Resume();
        }
    }

    private static readonly TimeSpan ForwardedCallPatience = TimeSpan.FromMilliseconds(500);

    /// <summary>The copy's forwarded calls, held while a checkpoint stops it.</summary>
    public Forwarding.GuestForwarder? Forwarder { get; init; }

    /// <summary>The final image into memory and the counts, with the process frozen; it runs on once they are taken.</summary>
    private (TimeSpan, CheckpointCounts) Freeze(IPrecopyRounds session, Stream image, long sequence)
    {
        var clock = Stopwatch.StartNew();
        engine.CheckpointFrozen(guestPid, image, session, Forwarder);
        _residentAtLast = Resident() ?? _residentAtLast;
        try
        {
            return (clock.Elapsed, Count(sequence));
        }
        finally
        {
            engine.Thaw(guestPid);
        }
    }

    private CheckpointCounts Count(long sequence)
    {
        input?.Pause();
        try
        {
            var written = outputs.Select(o => new OutputCount(o.Key, o.Value.Counted.Written(o.Value.Pipe))).ToList();
            return new CheckpointCounts(sequence, written, input?.Read(guestPid) ?? 0);
        }
        finally
        {
            input?.Unpause();
        }
    }

    private sealed class Paused(SemaphoreSlim imaging) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) imaging.Release();
        }
    }
}
