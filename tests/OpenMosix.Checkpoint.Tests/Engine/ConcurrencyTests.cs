using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>What the engine does for one process while it copies another's pages (a node ushering several at once).</summary>
public sealed class ConcurrencyTests
{
    /// <summary>Holds the checkpoint at its first page run until let go, as a slow link to a busy node would.</summary>
    private sealed class StalledSink : IImageSink
    {
        public ManualResetEventSlim Reached { get; } = new();
        public ManualResetEventSlim Go { get; } = new();

        public void WriteMetadata(ProcessImage image) { }

        public void WritePages(ulong address, ReadOnlySpan<byte> data)
        {
            Reached.Set();
            if (!Go.Wait(EngineFixtures.Patience * 2)) throw new IOException("the test never let the copy go on");
        }

        public void Complete() { }
    }

    private static ChildProcess Start(TempDirectory dir, string name)
    {
        var output = dir.File(name);
        var child = ChildProcess.StartToFile(TestPrograms.Locate("memticker"), ["64", "1000", "20"], output);
        Poll.Until(() => Poll.CountLines(output) >= 2, EngineFixtures.Patience, $"{name}'s first lines");
        return child;
    }

    [Fact]
    public async Task A_frozen_process_becomes_a_deputy_and_gives_back_its_memory_while_another_checkpoint_is_copying_pages()
    {
        using var dir = new TempDirectory();
        using var first = Start(dir, "first");
        using var second = Start(dir, "second");
        using var engine = new CheckpointEngine();
        engine.Checkpoint(first.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));

        var sink = new StalledSink();
        var stalled = Task.Run(() => engine.Checkpoint(second.Pid, sink, new DumpOptions(AfterDump.Resume)), TestContext.Current.CancellationToken);
        Assert.True(sink.Reached.Wait(EngineFixtures.Patience, TestContext.Current.CancellationToken), "the second checkpoint never reached its pages");

        // Before, this waited behind the whole page copy of the second process: here that copy is stalled until after.
        var deputy = Task.Run(() => engine.MakeDeputy(first.Pid), TestContext.Current.CancellationToken);
        var madeFirst = await Task.WhenAny(deputy, Task.Delay(EngineFixtures.Patience, TestContext.Current.CancellationToken)) == deputy;
        sink.Go.Set();
        var result = await stalled;
        await deputy;

        Assert.True(madeFirst, "the deputy was made only after the other checkpoint's page copy ended");
        Assert.InRange(DeputyTests.Rss(first.Pid), 0, 2L << 20);
        Assert.True(result.PageBytes >= 64UL << 20);
        Assert.False(second.HasExited);
        engine.EndDeputy(first.Pid, new ExitStatus(0, 0));
        Assert.Equal(new ChildExit(0, 0), first.WaitForExit(EngineFixtures.Patience));
    }

    /// <summary>An image arriving from a sender that stalls half-way through its pages until let go.</summary>
    private sealed class StalledStream(byte[] image) : Stream
    {
        private long _position;
        public ManualResetEventSlim Reached { get; } = new();
        public ManualResetEventSlim Go { get; } = new();

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (!Go.IsSet && _position >= image.Length / 2)
            {
                Reached.Set();
                if (!Go.Wait(EngineFixtures.Patience * 2)) throw new IOException("the test never let the sender go on");
            }
            var end = Go.IsSet ? image.Length : image.Length / 2;
            var n = (int)Math.Min(count, end - _position);
            Array.Copy(image, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task A_frozen_process_is_let_run_on_while_a_restore_waits_for_the_pages_of_another()
    {
        using var dir = new TempDirectory();
        using var first = Start(dir, "first");
        using var second = Start(dir, "second");
        using var engine = new CheckpointEngine();
        engine.Checkpoint(first.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
        var image = new MemoryStream();
        using (var writer = new ImageWriter(image, new ImageWriterOptions(LeaveOpen: true)))
            engine.Checkpoint(second.Pid, writer, new DumpOptions(AfterDump.Resume));
        image.Position = 0;

        var source = new StalledStream(image.ToArray());
        using var reader = new ImageReader(source);
        var restoring = Task.Run(() => engine.Restore(reader, new RestoreOptions(TryOriginalPid: false)), TestContext.Current.CancellationToken);
        Assert.True(source.Reached.Wait(EngineFixtures.Patience, TestContext.Current.CancellationToken), "the restore never reached its pages");

        var thaw = Task.Run(() => engine.Thaw(first.Pid), TestContext.Current.CancellationToken);
        var thawedFirst = await Task.WhenAny(thaw, Task.Delay(EngineFixtures.Patience, TestContext.Current.CancellationToken)) == thaw;
        source.Go.Set();
        var restored = await restoring;
        await thaw;

        Assert.True(thawedFirst, "the frozen process was let go only after the other restore ended");
        var lines = Poll.CountLines(dir.File("first"));
        Poll.Until(() => Poll.CountLines(dir.File("first")) > lines, EngineFixtures.Patience, "the thawed process to tick again");
        Signals.Kill(restored.Pid, Signals.SIGKILL);
        Assert.Equal(Signals.SIGKILL, engine.WaitForExitWithin(restored, EngineFixtures.Patience).Signal);
    }

    [Fact]
    public void A_checkpoint_that_fails_while_copying_pages_aside_resumes_the_process_and_reports_the_error()
    {
        using var dir = new TempDirectory();
        using var child = Start(dir, "child");
        using var engine = new CheckpointEngine();
        var failing = new FailAfterMetadata();
        var error = Assert.Throws<IOException>(() => engine.Checkpoint(child.Pid, failing, new DumpOptions(AfterDump.KeepFrozen)));
        Assert.Equal("link lost (simulated)", error.Message);
        var lines = Poll.CountLines(dir.File("child"));
        Poll.Until(() => Poll.CountLines(dir.File("child")) > lines, EngineFixtures.Patience, "the process to tick again");
        Assert.Throws<InvalidOperationException>(() => engine.MakeDeputy(child.Pid));
    }

    private sealed class FailAfterMetadata : IImageSink
    {
        public void WriteMetadata(ProcessImage image) { }
        public void WritePages(ulong address, ReadOnlySpan<byte> data) => throw new IOException("link lost (simulated)");
        public void Complete() { }
    }
}
