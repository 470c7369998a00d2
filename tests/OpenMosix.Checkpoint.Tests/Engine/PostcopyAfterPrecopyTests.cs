using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Postcopy;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// Issue #20: post-copy after pre-copy rounds that did not converge. The rounds fill the copy while the process runs
/// on; the final image then leaves out what the kept regions changed since the last round (PrecopyDelta.Missing), the
/// copy drops those pages and fetches them from the frozen original, with the regions that changed shape whole.
/// churner rewrites, discards, grows and replaces its memory every tick, so every kind of change meets the switch.
/// </summary>
public sealed class PostcopyAfterPrecopyTests
{
    [Fact]
    public async Task A_process_changing_its_memory_during_the_rounds_and_finished_by_post_copy_ends_exactly_like_an_uninterrupted_run()
    {
        using var dir = new TempDirectory();
        var churner = TestPrograms.Locate("churner");
        string[] arguments = ["24", "200", "15"];
        using var reference = ChildProcess.StartToFile(churner, arguments, dir.File("expected"));
        // Held after 3, 6 and 9 ticks (churner's HOLDs): it changes its memory between the rounds and after the last,
        // and is alive for the final image, however a loaded machine paces it against the rounds (its 3 s of ticks
        // once ended before them at load 100).
        using var child = ChildProcess.StartToFile(churner, [.. arguments, "3", "6", "9"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 4, Patience);

        using var engine = new CheckpointEngine();
        PrecopyTarget? target = null;
        var final = new MemoryStream();
        using (var session = engine.StartPrecopy(child.Pid))
        {
            Assert.NotNull(session);
            var lines = Poll.CountLines(dir.File("out"));
            for (var round = 1; round <= 2; round++)
            {
                using var stream = new MemoryStream();
                using (var writer = new ImageWriter(stream, new ImageWriterOptions(LeaveOpen: true))) session.WriteRound(writer);
                stream.Position = 0;
                using var reader = new ImageReader(stream);
                if (target is null) target = engine.BeginPrecopyRestore(reader, new RestoreOptions(TryOriginalPid: false));
                else engine.ContinuePrecopyRestore(target, reader);
                // It runs on between rounds and after the last, so that pages change that the copy holds already.
                Signals.Kill(child.Pid, Signals.SIGUSR1);
                lines += 3;
                Poll.UntilLines(dir.File("out"), lines, Patience);
            }
            using var finalWriter = new ImageWriter(final, new ImageWriterOptions(LeaveOpen: true));
            engine.Checkpoint(child.Pid, finalWriter, new DumpOptions(AfterDump.KeepFrozen) { Precopy = session, LeaveLazyMemory = true });
        }
        final.Position = 0;
        var delta = new ImageReader(new MemoryStream(final.ToArray())).ReadMetadata().Precopy;
        Assert.NotNull(delta);
        Assert.NotEmpty(delta.Kept);
        Assert.NotEmpty(delta.Missing);

        using var finalReader = new ImageReader(final);
        var restored = engine.FinishPrecopyRestore(target!, finalReader, new RestoreOptions(TryOriginalPid: false)
        {
            LazyPages = new FrozenProcessPages(child.Pid),
            LazyWholeRegions = true,
        });
        using var server = restored.Postcopy ?? throw new InvalidOperationException("nothing was left missing");
        Assert.Equal(target!.Pid, restored.Pid);
        // The copy goes on from its last hold.
        Signals.Kill(restored.Pid, Signals.SIGUSR1);

        Assert.Equal(PostcopyOutcome.AllPagesIn, await server.Completion.WaitAsync(Patience, TestContext.Current.CancellationToken));
        // Every page it fetched came from the original, frozen and whole all along; now it goes (killed and reaped
        // by the engine: it is this process's child).
        engine.KillFrozen(child.Pid);
        Assert.False(child.Exists, $"the original {child.Pid} outlived its copy's post-copy");
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal(new ChildExit(0, 0), reference.WaitForExit(Patience));
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }

    [Fact]
    public void A_final_image_that_left_changed_pages_at_home_is_refused_by_a_restore_with_nothing_to_fetch_them()
    {
        using var dir = new TempDirectory();
        var churner = TestPrograms.Locate("churner");
        using var child = ChildProcess.StartToFile(churner, ["8", "300", "10"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 3, Patience);

        using var engine = new CheckpointEngine();
        PrecopyTarget target;
        var final = new MemoryStream();
        using (var session = engine.StartPrecopy(child.Pid))
        {
            Assert.NotNull(session);
            using var stream = new MemoryStream();
            using (var writer = new ImageWriter(stream, new ImageWriterOptions(LeaveOpen: true))) session.WriteRound(writer);
            stream.Position = 0;
            using var reader = new ImageReader(stream);
            target = engine.BeginPrecopyRestore(reader, new RestoreOptions(TryOriginalPid: false));
            Poll.UntilLines(dir.File("out"), Poll.CountLines(dir.File("out")) + 3, Patience);
            using var finalWriter = new ImageWriter(final, new ImageWriterOptions(LeaveOpen: true));
            engine.Checkpoint(child.Pid, finalWriter, new DumpOptions(AfterDump.KeepFrozen) { Precopy = session, LeaveLazyMemory = true });
        }
        final.Position = 0;
        using var finalReader = new ImageReader(final);
        // Watched by a pidfd: the PID alone may name another process once the stub is reaped (tests beside this one
        // restore processes under their old PIDs, rewinding the PID allocator).
        using var stub = PidFd.Open(target.Pid);
        var refused = Assert.Throws<RestoreException>(() => engine.FinishPrecopyRestore(target, finalReader, new RestoreOptions(TryOriginalPid: false)));
        Assert.Contains("nothing here fetches them", refused.Message, StringComparison.Ordinal);
        // The stub is gone, and the original, frozen, runs on untouched.
        Assert.False(stub.Exists, $"stub {target.Pid} left behind");
        engine.Thaw(child.Pid);
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(Patience));
    }
}
