using System.Net.Sockets;

namespace OpenMosix.Daemon.Admin;

/// <summary>
/// The admin API on a unix socket. Anyone may connect and read (the socket is 0666, like /proc/hpc was readable);
/// each route checks the caller's uid, which the kernel reports (SO_PEERCRED), before changing anything.
/// One request per connection, at most <see cref="MaxConnections"/> held at once (<see cref="Hosting.ConnectionSlots"/>:
/// clients that stall give way to new ones); a request must arrive within <see cref="ReadTimeout"/>. Reading and
/// writing hold no thread; an answer streamed while its work runs (a move's progress) has the write bound per line. Routes that read run on the thread pool; those that may block for long (a migration takes
/// as long as its image takes to travel) on threads of their own, at most <see cref="MaxBlockingRoutes"/> at once,
/// the others waiting their turn without a thread.
/// </summary>
public sealed partial class AdminServer(string socketPath, AdminRoutes routes, ILogger logger) : IDisposable
{
    /// <summary>How long a client has to send its whole request: a real one sends it at once.</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long a client has to take its answer.</summary>
    public static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Connections held at once (reading, waiting for their route, or being answered).</summary>
    public const int MaxConnections = 64;

    /// <summary>Routes that change something (migrations among them) running at once.</summary>
    public const int MaxBlockingRoutes = 8;

    private readonly Hosting.ConnectionSlots _connections = new(MaxConnections);
    private readonly SemaphoreSlim _blockingRoutes = new(MaxBlockingRoutes);
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private bool _bound;

    /// <summary>Claims the socket path; refuses if another omd answers there, removes a stale file otherwise.</summary>
    public void Bind()
    {
        var directory = Path.GetDirectoryName(socketPath);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        if (File.Exists(socketPath))
        {
            if (SocketProbe.Accepts(socketPath))
                throw new Hosting.DaemonStartException($"another omd is already running (it answers on {socketPath})");
            File.Delete(socketPath);
        }
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        _bound = true;
        File.SetUnixFileMode(socketPath, (UnixFileMode)0b110_110_110);
        _listener.Listen(64);
        LogListening(logger, socketPath);
    }

    public async Task RunAsync(CancellationToken cancel)
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                // Room first, then accept: past the bound, connections wait in the kernel's backlog, costing omd nothing.
                await _connections.WaitForRoomAsync(cancel).ConfigureAwait(false);
                var client = await _listener.AcceptAsync(cancel).ConfigureAwait(false);
                connections.RemoveAll(t => t.IsCompleted);
                connections.Add(ServeAsync(client, _connections.Admit(ReadTimeout, cancel), cancel));
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: the connections in hand finish below.
        }
        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _blockingRoutes.Dispose();
        if (_bound)
        {
            try
            {
                File.Delete(socketPath);
            }
            catch (IOException)
            {
                // Best effort: a stale socket is detected and replaced at the next start.
            }
        }
    }

    private async Task ServeAsync(Socket client, Hosting.ConnectionSlots.Slot reading, CancellationToken cancel)
    {
        using var held = reading;
        await using var stream = new NetworkStream(client, ownsSocket: true);
        HttpResponse response;
        try
        {
            var caller = PeerCredentials.Of(client);
            var request = await HttpRequestReader.ReadAsync(stream, reading.Token).ConfigureAwait(false);
            reading.Settled();
            var routed = await RouteAsync(request, caller, stream, cancel).ConfigureAwait(false);
            LogRequest(logger, request.Method, request.Path, caller.Uid, caller.Pid, routed?.Status ?? 200);
            if (routed is null) return; // streamed: answered as it happened
            response = routed;
        }
        catch (BadRequestException e)
        {
            response = HttpResponse.Error(e.Status, e.Message);
        }
        catch (OperationCanceledException)
        {
            return; // too slow, made to give way, or omd stops: the client gets no answer
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            return;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            response = Failed(e);
        }
        try
        {
            using var writing = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            writing.CancelAfter(WriteTimeout);
            await stream.WriteAsync(response.Encode(), writing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // The client went away; nothing to tell it.
        }
    }

    /// <summary>The route's answer, or null when the route answered while it ran (<see cref="StreamedAnswer"/>), which
    /// holds its place among the blocking routes until its last line.</summary>
    private async Task<HttpResponse?> RouteAsync(HttpRequest request, PeerCredentials caller, Stream stream, CancellationToken cancel)
    {
        if (request.Method == "GET") return await Task.Run(() => Handle(request, caller), cancel).ConfigureAwait(false);
        await _blockingRoutes.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            // A route may block for long: not on a pool thread.
            var response = await Migration.Blocking.Run(() => Handle(request, caller)).ConfigureAwait(false);
            if (response.Streamed is null) return response;
            await StreamedAnswer.SendAsync(stream, response, WriteTimeout, e => LogFailed(logger, e.ToString()), cancel).ConfigureAwait(false);
            return null;
        }
        finally
        {
            _blockingRoutes.Release();
        }
    }

    /// <summary>The route's answer. Whatever a route throws is its own failure, answered: an IOException from a /proc
    /// read or a cancellation inside a move must not be taken for the client's stream failing, which gets no answer.</summary>
    private HttpResponse Handle(HttpRequest request, PeerCredentials caller)
    {
        try
        {
            return routes.Handle(request, caller);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Failed(e);
        }
    }

    /// <summary>A bug, not a bad request: the caller still gets one line, the log gets the details.</summary>
    private HttpResponse Failed(Exception e)
    {
        LogFailed(logger, e.ToString());
        return HttpResponse.Error(500, $"omd failed: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "admin API listening on {Path}")]
    private static partial void LogListening(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "admin request failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} {Path} by uid {Uid} (pid {Pid}): {Status}")]
    private static partial void LogRequest(ILogger logger, string method, string path, uint uid, int pid, int status);
}
