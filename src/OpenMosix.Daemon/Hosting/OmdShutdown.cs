namespace OpenMosix.Daemon.Hosting;

/// <summary>
/// How omd is told to stop: the first request (SIGTERM, SIGINT) begins the drain, which brings processes home and
/// sends guests home within shutdown.drain_timeout_ms before omd stops; a second request stops it at once, whatever
/// the drain has left away.
/// </summary>
public sealed class OmdShutdown : IDisposable
{
    private readonly CancellationTokenSource _requested = new();
    private readonly CancellationTokenSource _immediate = new();
    private int _requests;

    /// <summary>Cancelled by the first request: drain, then stop.</summary>
    public CancellationToken Requested => _requested.Token;

    /// <summary>Cancelled by the second request: stop now.</summary>
    public CancellationToken Immediate => _immediate.Token;

    /// <summary>One more stop request; true for the first.</summary>
    public bool Request()
    {
        var count = Interlocked.Increment(ref _requests);
        try
        {
            if (count == 1) _requested.Cancel();
            else _immediate.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // omd has stopped already: nothing is left to stop.
        }
        return count == 1;
    }

    public void Dispose()
    {
        _requested.Dispose();
        _immediate.Dispose();
    }
}
