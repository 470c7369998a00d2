using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace OpenMosix.Checkpoint.Dump;

/// <summary>
/// Hands gathered chunks to the sink on one consumer thread, in the order they were gathered, while the gatherer
/// fills the next of several slots. The gatherer waits only when every slot is still on its way to the sink. With two
/// slots it waited for the consumer at every chunk, and on a loaded machine each of those waits cost a wakeup that
/// took milliseconds to be scheduled: about as long as the copying itself (issue #20's breakdown).
/// </summary>
internal sealed class ChunkPipeline : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly SemaphoreSlim _free;
    private readonly int _slots;
    private readonly Task _consumer;
    private volatile ExceptionDispatchInfo? _failure;
    private volatile bool _abandoned;

    public ChunkPipeline(int slots)
    {
        _slots = slots;
        _free = new SemaphoreSlim(slots, slots);
        _consumer = Task.Factory.StartNew(Consume, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Waits until the oldest slot has reached the sink and may be filled again; rethrows what the sink threw.</summary>
    public void AcquireSlot()
    {
        _free.Wait();
        _failure?.Throw();
    }

    /// <summary>Gives back a slot taken but not filled.</summary>
    public void ReturnSlot() => _free.Release();

    /// <summary>Queues the emission of the slot just filled; the sink sees emissions one at a time, in this order.</summary>
    public void Submit(Action emit) => _work.Add(emit);

    /// <summary>Waits until every queued chunk has reached the sink (rethrowing what the sink threw).</summary>
    public void Finish()
    {
        for (var i = 0; i < _slots; i++) _free.Wait();
        _free.Release(_slots);
        _failure?.Throw();
    }

    private void Consume()
    {
        foreach (var emit in _work.GetConsumingEnumerable())
        {
            // After a failure the rest is only let through, so that the gatherer is never left waiting for a slot.
            if (_failure is null && !_abandoned)
            {
                try
                {
                    emit();
                }
                catch (Exception e)
                {
                    _failure = ExceptionDispatchInfo.Capture(e);
                }
            }
            _free.Release();
        }
    }

    /// <summary>Stops emitting what is still queued and waits for the consumer: a failed dump must not hand its
    /// buffers back while a sink call still reads from them.</summary>
    public void Dispose()
    {
        _abandoned = true;
        _work.CompleteAdding();
        _consumer.Wait();
        _work.Dispose();
        _free.Dispose();
    }
}
