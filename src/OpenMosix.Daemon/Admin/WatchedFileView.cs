namespace OpenMosix.Daemon.Admin;

/// <summary>
/// Part of omd's state shown as a tree of <see cref="WatchedFiles"/> (the classic /proc/hpc and /proc/PID files):
/// <see cref="Refresh"/> writes the true values (omd's <see cref="Hosting.NodeClock"/> calls it every second), and a
/// write by someone else reaches <see cref="OnRequest"/>.
/// </summary>
public abstract class WatchedFileView : IDisposable
{
    protected WatchedFileView(string root) => Files = new WatchedFiles(root, OnRequest, OnLost);

    protected WatchedFiles Files { get; }

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
    protected abstract void OnLost(Exception error);
}
