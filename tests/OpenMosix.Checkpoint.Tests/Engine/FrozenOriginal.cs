using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Postcopy;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// Post-copy as a move does it, the original's side: lazywalk started on a pipe, waiting for a command, and
/// checkpointed kept frozen, as home keeps it while its copy runs; the copy is restored reading the same pipe, its
/// missing pages served from a page source (the frozen original's own memory, in these tests).
/// </summary>
internal sealed class FrozenOriginal : IDisposable
{
    private readonly TempDirectory _dir;
    private readonly SafeFileHandle _read, _write;

    private FrozenOriginal(TempDirectory dir, SafeFileHandle read, SafeFileHandle write, ChildProcess process, string ready)
    {
        (_dir, _read, _write) = (dir, read, write);
        (Process, Ready) = (process, ready);
    }

    public CheckpointEngine Engine { get; } = new();
    public ChildProcess Process { get; }
    /// <summary>The checksum of its memory, as it printed it before waiting.</summary>
    public string Ready { get; }
    public string Output => _dir.File("out");

    public static FrozenOriginal Start(int megabytes = 16)
    {
        var dir = new TempDirectory();
        var (read, write) = Pipe();
        var (process, ready) = PostcopyTests.LazyRun.StartWaiting(dir, read, megabytes);
        return new FrozenOriginal(dir, read, write, process, ready);
    }

    /// <summary>Its image, the process left frozen; <paramref name="leaveLazyMemory"/>: without its private memory.</summary>
    public InMemoryImage Checkpoint(bool leaveLazyMemory = false)
    {
        var image = new InMemoryImage();
        Engine.Checkpoint(Process.Pid, image, new DumpOptions(AfterDump.KeepFrozen) { LeaveLazyMemory = leaveLazyMemory });
        return image;
    }

    /// <summary>The copy, reading the original's input, with what <paramref name="image"/> lacks from <paramref name="pages"/>.</summary>
    public RestoredProcess RestoreCopy(InMemoryImage image, IPageSource pages, bool push, bool wholeRegions = false)
    {
        var copy = Engine.Restore(image, new RestoreOptions(new Dictionary<int, int> { [0] = (int)_read.DangerousGetHandle() }, TryOriginalPid: false)
        {
            LazyPages = pages,
            PushLazyPages = push,
            LazyWholeRegions = wholeRegions,
        });
        _read.Dispose();
        return copy;
    }

    public void Send(string command) => WriteAll(_write, command + "\n");

    public void UntilLines(int count) => Poll.UntilLines(Output, count, Patience);

    /// <summary>The sum the second line of output says: the copy's or the original's answer to "sum".</summary>
    public string SumLine => File.ReadLines(Output).ElementAt(1);

    /// <summary>Home takes the original back: it runs on, intact, from where it was frozen.</summary>
    public void Thaw() => Engine.Thaw(Process.Pid);

    /// <summary>Ends the original, thawed, and closes its input.</summary>
    public void Quit()
    {
        Send("quit");
        Assert.Equal(new ChildExit(0, 0), Process.WaitForExit(Patience));
        _write.Dispose();
    }

    public void Dispose()
    {
        _write.Dispose();
        _read.Dispose();
        Engine.Dispose();
        Process.Dispose();
        _dir.Dispose();
    }
}
