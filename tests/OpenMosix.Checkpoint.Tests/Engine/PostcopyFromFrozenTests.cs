using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Postcopy;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// Post-copy as a migration does it: the original stays frozen where it was checkpointed and its own memory serves
/// the copy. If the pages stop coming, the copy is killed and the original, intact, runs on: never two copies, and
/// the process is not lost.
/// </summary>
public sealed class PostcopyFromFrozenTests
{
    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(3)]
    public async Task The_frozen_original_serves_its_copy_and_runs_on_if_the_link_dies(int linkDiesAfter)
    {
        using var dir = new TempDirectory();
        var (read, write) = Pipe();
        var (original, ready) = PostcopyTests.LazyRun.StartWaiting(dir, read, 16);
        using var _ = original;

        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(original.Pid, image, new DumpOptions(AfterDump.KeepFrozen));
        var options = new RestoreOptions(new Dictionary<int, int> { [0] = (int)read.DangerousGetHandle() }, TryOriginalPid: false)
        {
            LazyPages = new DyingLink(new FrozenProcessPages(original.Pid), linkDiesAfter),
            PushLazyPages = false,
        };
        var copy = engine.Restore(image, options);
        read.Dispose();
        using var server = copy.Postcopy ?? throw new InvalidOperationException("nothing was left missing");

        WriteAll(write, "sum\n");
        if (linkDiesAfter == int.MaxValue)
        {
            Poll.UntilLines(dir.File("out"), 2, Patience);
            WriteAll(write, "quit\n");
            Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(copy, Patience));
            Assert.Equal(PostcopyOutcome.ProcessGone, await server.Completion.WaitAsync(Patience, TestContext.Current.CancellationToken));
        }
        else
        {
            Assert.Equal(PostcopyOutcome.Killed, await server.Completion.WaitAsync(Patience, TestContext.Current.CancellationToken));
            Assert.Equal(new ExitStatus(0, Signals.SIGKILL), engine.WaitForExitWithin(copy, Patience));
            // The copy read the command before it died (here nothing forwards its input): it is asked again.
            WriteAll(write, "sum\n");
        }
        // Home takes the process back (here: in both cases, to end it): it runs on, intact, from where it was frozen.
        engine.Thaw(original.Pid);
        Poll.UntilLines(dir.File("out"), 2, Patience);
        WriteAll(write, "quit\n");
        Assert.Equal(new ChildExit(0, 0), original.WaitForExit(Patience));
        write.Dispose();
        Assert.Equal($"sum {ready} {ready}", File.ReadLines(dir.File("out")).ElementAt(1));
    }
}
