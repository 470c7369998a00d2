namespace OpenMosix.Daemon.Hosting;

/// <summary>
/// Connections a listener holds, at most <c>capacity</c>, each <i>pending</i> until its peer has done what it must do
/// first (sent its request, completed its handshake) within a timeout. When the bound is reached, the oldest pending
/// connection gives way to the new one: peers that connect and stall cannot keep a real one out, since a real peer
/// finishes its first step in about a round trip and stalled ones are the oldest. Connections past their first step
/// never give way; when every one held is past it, <see cref="WaitForRoomAsync"/> waits (new connections stay in the
/// kernel's backlog meanwhile).
/// </summary>
public sealed class ConnectionSlots(int capacity)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<CancellationTokenSource> _pending = new();
    private int _held;
    private TaskCompletionSource _released = NewSignal();

    /// <summary>Connections that gave way to newer ones so far.</summary>
    public long GaveWay { get; private set; }

    /// <summary>Returns once a new connection may be taken: below the bound, or one held is still pending.</summary>
    public async Task WaitForRoomAsync(CancellationToken cancel)
    {
        while (true)
        {
            Task released;
            lock (_gate)
            {
                if (_held < capacity || _pending.Count > 0) return;
                released = _released.Task;
            }
            await released.WaitAsync(cancel).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Holds a new connection, making the oldest pending one give way if the bound is reached. Its first step must be
    /// done before the slot's token is cancelled: after <paramref name="timeout"/>, when it has to give way, or when
    /// <paramref name="stopping"/> is.
    /// </summary>
    public Slot Admit(TimeSpan timeout, CancellationToken stopping)
    {
        var token = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        token.CancelAfter(timeout);
        lock (_gate)
        {
            if (_held >= capacity && _pending.First is { } oldest)
            {
                _pending.RemoveFirst();
                oldest.Value.Cancel();
                GaveWay++;
            }
            _held++;
            return new Slot(this, _pending.AddLast(token));
        }
    }

    private void Settle(LinkedListNode<CancellationTokenSource> node)
    {
        lock (_gate)
            if (node.List is not null) _pending.Remove(node);
    }

    private void Release()
    {
        TaskCompletionSource released;
        lock (_gate)
        {
            _held--;
            released = _released;
            _released = NewSignal();
        }
        released.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>One connection held: pending until <see cref="Settled"/>, held until disposed.</summary>
    public sealed class Slot(ConnectionSlots owner, LinkedListNode<CancellationTokenSource> node) : IDisposable
    {
        /// <summary>Cancelled when the first step took too long, when the connection must give way, or on stopping.</summary>
        public CancellationToken Token => node.Value.Token;

        /// <summary>The first step is done: this connection no longer gives way to new ones.</summary>
        public void Settled() => owner.Settle(node);

        public void Dispose()
        {
            owner.Settle(node);
            node.Value.Dispose();
            owner.Release();
        }
    }
}
