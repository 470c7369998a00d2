using System.Net.Sockets;
using OpenMosix.Admin;
using OpenMosix.Linux;

namespace OpenMosix.Daemon.Admin;

/// <summary>
/// The admin API on a unix socket. Anyone may connect and read (the socket is 0666, like /proc/hpc was readable);
/// each route checks the caller's uid, which the kernel reports (SO_PEERCRED), before changing anything.
/// One request per connection, at most <see cref="MaxConnections"/> at once; a slow or silent client is cut off
/// after <see cref="RequestTimeout"/>.
/// </summary>
public sealed partial class AdminServer(string socketPath, AdminRoutes routes, ILogger logger) : IDisposable
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Connections served at once; each holds at most one request, cut off after <see cref="RequestTimeout"/>.</summary>
    public const int MaxConnections = 64;

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
        using var slots = new SemaphoreSlim(MaxConnections);
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                // A free slot first, then accept: connections past the bound wait in the kernel's backlog, costing omd nothing.
                await slots.WaitAsync(cancel).ConfigureAwait(false);
                var client = await _listener.AcceptAsync(cancel).ConfigureAwait(false);
                connections.RemoveAll(t => t.IsCompleted);
                connections.Add(ServeAndFreeAsync(client, slots, cancel));
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

    private async Task ServeAndFreeAsync(Socket client, SemaphoreSlim slots, CancellationToken cancel)
    {
        try
        {
            await ServeAsync(client, cancel).ConfigureAwait(false);
        }
        finally
        {
            slots.Release();
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(RequestTimeout);
        await using var stream = new NetworkStream(client, ownsSocket: true);
        HttpResponse response;
        try
        {
            var caller = PeerCredentials.Of(client);
            var request = await HttpRequestReader.ReadAsync(stream, timeout.Token).ConfigureAwait(false);
            // A route may block (a migration takes as long as its image takes to travel): not on a pool thread.
            response = await Migration.Blocking.Run(() => routes.Handle(request, caller)).ConfigureAwait(false);
            LogRequest(logger, request.Method, request.Path, caller.Uid, caller.Pid, response.Status);
        }
        catch (BadRequestException e)
        {
            response = HttpResponse.Error(e.Status, e.Message);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            return;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug, not a bad request: the caller still gets one line, the log gets the details.
            LogFailed(logger, e.ToString());
            response = HttpResponse.Error(500, $"omd failed: {e.GetType().Name}: {e.Message}");
        }
        try
        {
            // A fresh bound for the answer: a migration may have taken longer than the request's own bound.
            using var writing = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            writing.CancelAfter(RequestTimeout);
            await stream.WriteAsync(response.Encode(), writing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // The client went away; nothing to tell it.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "admin API listening on {Path}")]
    private static partial void LogListening(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "admin request failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} {Path} by uid {Uid} (pid {Pid}): {Status}")]
    private static partial void LogRequest(ILogger logger, string method, string path, uint uid, int pid, int status);
}
