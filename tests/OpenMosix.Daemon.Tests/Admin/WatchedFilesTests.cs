using System.Collections.Concurrent;
using System.Globalization;
using OpenMosix.Daemon.Admin;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Admin;

public sealed class WatchedFilesTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"om-watched-{Guid.NewGuid():N}");

    /// <summary>The file is in a directory omd has just made, which the watcher watches only once it has seen it made:
    /// a write at once after omd's is read when the watch is added if its event came too early (lost 2 of 6 at load ~10
    /// before the new directory was read once watched).</summary>
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

    /// <summary>Many new process directories, each written into by someone else at once after omd made it: every
    /// write is a request, whether it landed before or after the watcher watched its directory.</summary>
    [Fact]
    public void Every_write_into_a_directory_omd_has_just_made_is_a_request()
    {
        const int Directories = 100;
        var requests = new ConcurrentDictionary<string, string>();
        using var files = new WatchedFiles(_root, (path, text) => requests[path] = text);
        for (var i = 0; i < Directories; i++)
        {
            files.Write($"{i}/lock", "1");
            File.WriteAllText(Path.Join(_root, $"{i}", "lock"), "0\n");
        }
        Poll.Until(() => requests.Count == Directories, Patience, $"all {Directories} writes to be seen");
        Assert.All(requests, r => Assert.Equal("0", r.Value));
    }

    /// <summary>omd's file still says "0" from before a lock set another way (not yet written back) when the user
    /// writes "0" to lift it: the same text, but a new write, so a request (it was dropped as omd's own echo).</summary>
    [Fact]
    public void A_write_of_the_text_omd_wrote_last_is_still_a_request()
    {
        var requests = new ConcurrentQueue<(string Path, string Text)>();
        using var files = new WatchedFiles(_root, (path, text) => requests.Enqueue((path, text)));
        files.Write("lock", "0");
        File.WriteAllText(Path.Join(_root, "lock"), "0\n");
        Poll.Until(() => !requests.IsEmpty, Patience, "the write to be seen");
        Assert.Equal([("lock", "0")], requests);
        // After the request omd writes the true value back; the same text written again is a request again.
        files.Write("lock", "0");
        File.WriteAllText(Path.Join(_root, "lock"), "0\n");
        Poll.Until(() => requests.Count == 2, Patience, "the second write to be seen");
    }

    /// <summary>omd makes directories and rewrites their files as fast as it can while the watcher reads each new
    /// directory once it watches it (a reading that races omd's renames: omd's write was stamped after the rename,
    /// and was taken for a request). A write by someone else at the end, seen after every earlier event, shows the
    /// watcher has read all; it is the only request.</summary>
    [Fact]
    public void Omds_own_writes_into_directories_it_has_just_made_are_never_taken_for_requests()
    {
        var requests = new ConcurrentQueue<(string Path, string Text)>();
        using var files = new WatchedFiles(_root, (path, text) => requests.Enqueue((path, text)));
        for (var i = 0; i < 200; i++)
            for (var round = 0; round < 3; round++)
                foreach (var name in new[] { "where", "lock", "migrate", "nmigs" })
                    files.Write($"{i}/{name}", $"{round}");
        files.Write("last/lock", "1");
        File.WriteAllText(Path.Join(_root, "last", "lock"), "0\n");
        Poll.Until(() => requests.Contains(("last/lock", "0")), Patience, "the write after omd's to be seen");
        Assert.Equal([("last/lock", "0")], requests);
    }

    /// <summary>The clock's refresh and a refresh after a request write the same files at once: each write is whole
    /// (they shared one aside file, and one's rename took the other's away: FileNotFoundException), and none is
    /// taken for a request.</summary>
    [Fact]
    public void Two_threads_writing_the_same_files_at_once_never_fail_nor_make_a_request()
    {
        var requests = new ConcurrentQueue<(string Path, string Text)>();
        var failures = new ConcurrentQueue<Exception>();
        using var files = new WatchedFiles(_root, (path, text) => requests.Enqueue((path, text)));
        var writers = Enumerable.Range(0, 2).Select(writer => new Thread(() =>
        {
            try
            {
                for (var i = 0; i < 1000; i++)
                {
                    files.Write($"{i % 10}/lock", $"{writer}{i % 2}");
                    if (i % 100 == 0) files.Prune("", Enumerable.Range(0, 10).Select(n => $"{n}").Where(n => n != $"{i / 100}").ToHashSet());
                }
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
            }
        })).ToList();
        writers.ForEach(t => t.Start());
        writers.ForEach(t => Assert.True(t.Join(Patience), "a writer to finish"));
        Assert.Empty(failures);
        Assert.Empty(Directory.EnumerateFiles(_root, ".*", SearchOption.AllDirectories));
        files.Write("last/lock", "1");
        File.WriteAllText(Path.Join(_root, "last", "lock"), "0\n");
        Poll.Until(() => requests.Contains(("last/lock", "0")), Patience, "the write after omd's to be seen");
        Assert.Equal([("last/lock", "0")], requests);
    }

    /// <summary>A handler that throws (a refused request's refresh failing, say) is told to omd's log and the
    /// watcher goes on: .NET's watcher stops at a handler's exception, and one thrown in its Error handler kills the
    /// process (omd).</summary>
    [Fact]
    public void An_exception_in_a_request_handler_is_reported_and_later_writes_are_still_requests()
    {
        var requests = new ConcurrentQueue<(string Path, string Text)>();
        var failures = new ConcurrentQueue<(string Path, Exception Error)>();
        using var files = new WatchedFiles(_root, (path, text) =>
        {
            requests.Enqueue((path, text));
            if (text == "bad") throw new InvalidOperationException("the handler failed");
        }, failed: (path, e) => failures.Enqueue((path, e)));
        files.Write("lock", "0");
        File.WriteAllText(Path.Join(_root, "lock"), "bad\n");
        Poll.Until(() => !failures.IsEmpty, Patience, "the handler's failure to be reported");
        var (failedPath, error) = Assert.Single(failures);
        Assert.Equal(Path.Join(_root, "lock"), failedPath);
        Assert.Equal("the handler failed", error.Message);
        File.WriteAllText(Path.Join(_root, "lock"), "1\n");
        Poll.Until(() => requests.Contains(("lock", "1")), Patience, "the write after the failure to be seen");
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
            // Held until the test has made its changes, however long they take under load (at load ~60 they took
            // over a minute: a hold of 60 s let the watcher drain the queue before it overflowed), but not forever.
            release.Wait(TimeSpan.FromMinutes(10));
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
