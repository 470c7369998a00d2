using System.Collections.Concurrent;
using System.Globalization;
using OpenMosix.Daemon.Admin;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Admin;

public sealed class WatchedFilesTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"om-watched-{Guid.NewGuid():N}");

    [Fact]
    public void A_write_by_someone_else_is_a_request_and_omds_own_write_is_not()
    {
        var requests = new ConcurrentQueue<(string Path, string Text)>();
        using var files = new WatchedFiles(_root, (path, text) => requests.Enqueue((path, text)));
        files.Write("1/lock", "1");
        File.WriteAllText(Path.Join(_root, "1", "lock"), "0\n");
        Poll.Until(() => !requests.IsEmpty, Patience, "the write to be seen");
        Assert.Equal([("1/lock", "0")], requests);
    }

    /// <summary>
    /// The watcher's thread is held inside the first request while far more changes than inotify queues
    /// (/proc/sys/fs/inotify/max_queued_events) are made, alternating between two files so that none merge; the
    /// request written last has no event left. Once let go, the watcher reports the overflow and every file is read
    /// again: the request is acted on.
    /// </summary>
    [Fact]
    public void A_request_whose_event_inotify_dropped_in_an_overflow_is_found_when_the_files_are_read_again()
    {
        var requests = new ConcurrentQueue<(string Path, string Text)>();
        var lost = new ConcurrentQueue<Exception>();
        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var files = new WatchedFiles(_root, (path, text) =>
        {
            requests.Enqueue((path, text));
            if (path != "hold") return;
            holding.Set();
            release.Wait(Patience);
        }, lost.Enqueue);
        foreach (var name in new[] { "a", "b", "request", "hold" }) files.Write(name, "0");
        try
        {
            File.WriteAllText(Path.Join(_root, "hold"), "1\n");
            Assert.True(holding.Wait(Patience, TestContext.Current.CancellationToken), "the watcher to report the first request");
            var limit = int.Parse(File.ReadAllText("/proc/sys/fs/inotify/max_queued_events").Trim(), CultureInfo.InvariantCulture);
            for (var i = 0; i < limit + 1000; i++) File.WriteAllText(Path.Join(_root, i % 2 == 0 ? "a" : "b"), $"{i}\n");
            File.WriteAllText(Path.Join(_root, "request"), "1\n");
        }
        finally
        {
            release.Set();
        }
        Poll.Until(() => requests.Contains(("request", "1")), Patience, "the request written during the overflow to be acted on");
        Assert.NotEmpty(lost);
        Assert.IsType<InternalBufferOverflowException>(lost.First());
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
