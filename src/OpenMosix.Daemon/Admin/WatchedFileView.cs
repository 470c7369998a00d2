namespace OpenMosix.Daemon.Admin;

/// <summary>
/// Part of omd's state shown as a tree of <see cref="WatchedFiles"/> (the classic /proc/hpc and /proc/PID files):
/// <see cref="Refresh"/> writes the true values (omd's <see cref="Hosting.NodeClock"/> calls it every second), and a
/// write by someone else reaches <see cref="OnRequest"/>.
/// </summary>
public abstract partial class WatchedFileView : IDisposable
{
    private readonly string _name;

    /// <param name="root">the tree's directory.</param>
    /// <param name="name">how omd's log names the tree (<c>hpc</c>, <c>proc</c>).</param>
    /// <param name="logger">where the watcher's losses and failures go.</param>
    protected WatchedFileView(string root, string name, ILogger logger)
    {
        (_name, Logger) = (name, logger);
        Files = new WatchedFiles(root, OnRequest, OnLost, OnFailed);
    }

    protected WatchedFiles Files { get; }

    protected ILogger Logger { get; }

    /// <summary>Brings the files in line with omd's state.</summary>
    public abstract void Refresh();

    public void Dispose()
    {
        Files.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A write by someone else: the file's path relative to the root, and the text written.</summary>
    protected abstract void OnRequest(string path, string value);

    /// <summary>The watcher lost events (every file is read again next): a line in omd's log.</summary>
    private void OnLost(Exception error) => LogLost(Logger, _name, error.Message);

    /// <summary>Something failed in the watcher's handlers (acting on a request, or the refresh after it) or in
    /// <see cref="RefreshAfterRequest"/> (the file's full path, and what was thrown): a line in omd's log; omd and the
    /// watcher go on.</summary>
    private void OnFailed(string path, Exception error) =>
        LogFailed(Logger, _name, Path.GetRelativePath(Files.Root, path), error.Message);

    /// <summary>A refresh after a request acted on away from the watcher's thread (a task of its own): what it throws
    /// goes to omd's log, not to an unobserved task; the clock's next refresh tries again.</summary>
    /// <param name="path">the request's file, relative to the root.</param>
    protected void RefreshAfterRequest(string path)
    {
        try
        {
            Refresh();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            OnFailed(Path.Join(Files.Root, path), e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Tree}/{Path}: {Error} (omd goes on; the next refresh writes the true values)")]
    private static partial void LogFailed(ILogger logger, string tree, string path, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Tree}/: the file watcher lost events ({Error}): every file is read again")]
    private static partial void LogLost(ILogger logger, string tree, string error);
}
