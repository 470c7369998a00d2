using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// Writable MAP_SHARED mappings of regular files (the JVM's hsperfdata): sharedfile keeps counters in one, and is
/// checkpointed, killed and restored with its file gone (a node that never had it), left as it was, or holding other
/// bytes (a shared filesystem someone wrote to); each time its output and its file end as an uninterrupted run's.
/// </summary>
public sealed class SharedFileTests
{
    public enum FileAtRestore { Deleted, LeftInPlace, OverwrittenWithOtherBytes }

    [Theory]
    [InlineData(FileAtRestore.Deleted)]
    [InlineData(FileAtRestore.LeftInPlace)]
    [InlineData(FileAtRestore.OverwrittenWithOtherBytes)]
    public void Process_with_a_writable_shared_file_mapping_restored_ends_like_an_uninterrupted_run_and_its_file_too(FileAtRestore file)
    {
        using var dir = new TempDirectory();
        using var runs = StartBesideReference(dir, "30", 5);
        var (reference, child) = (runs.Reference, runs.Child);
        var path = dir.File(Counters);

        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        Assert.Equal(new ChildExit(0, 9), child.WaitForExit(Patience));
        var region = Assert.Single(image.Metadata.Regions, r => r.Kind == RegionKind.SharedFile);
        Assert.Equal(path, region.Name);
        Assert.Equal(40000, region.FileSize);
        // Only the file's pages that hold data travel: none beyond its end (page 9 is its last), no hole.
        var stored = image.Runs.Where(r => r.Address >= region.Start && r.Address < region.End).ToList();
        Assert.All(stored, r => Assert.True(r.Address + (ulong)r.Data.Length <= region.Start + 10 * 4096));
        Assert.InRange(stored.Sum(r => r.Data.Length), 3 * 4096, 4 * 4096);

        switch (file)
        {
            case FileAtRestore.Deleted:
                Directory.Delete(dir.File("perf"), recursive: true);
                break;
            case FileAtRestore.OverwrittenWithOtherBytes:
                File.WriteAllBytes(path, [.. Enumerable.Range(0, 40000).Select(i => (byte)(i * 7 + 1))]);
                break;
        }
        EndsLikeReference(engine, engine.Restore(image, new RestoreOptions()), reference, dir);
        if (file == FileAtRestore.Deleted)
        {
            Assert.Equal(0x180u, FileStatus.Of(path).Mode & 0xfff);
            Assert.Equal(0x1edu, FileStatus.Of(dir.File("perf")).Mode & 0xfff);
        }
    }

    /// <summary>Pre-copy rounds track private anonymous memory only: the shared file's pages all come in the final
    /// image, and the file is made again when the stub is completed.</summary>
    [Fact]
    public void Pre_copied_process_with_a_writable_shared_file_mapping_gets_its_file_back_from_the_final_image()
    {
        using var dir = new TempDirectory();
        using var runs = StartBesideReference(dir, "40", 3);
        var (reference, child) = (runs.Reference, runs.Child);

        using var engine = new CheckpointEngine();
        using var session = engine.StartPrecopy(child.Pid);
        Assert.NotNull(session);
        using var round = new MemoryStream();
        using (var writer = new ImageWriter(round, new ImageWriterOptions(LeaveOpen: true))) session.WriteRound(writer);
        round.Position = 0;
        using var roundReader = new ImageReader(round);
        var target = engine.BeginPrecopyRestore(roundReader, new RestoreOptions(TryOriginalPid: false));
        Assert.DoesNotContain(target.Tracked, r => r.Kind == RegionKind.SharedFile);

        var final = new InMemoryImage();
        engine.Checkpoint(child.Pid, final, new DumpOptions(AfterDump.Kill) { Precopy = session });
        Assert.Equal(9, child.WaitForExit(Patience).Signal);
        var region = Assert.Single(final.Metadata.Regions, r => r.Kind == RegionKind.SharedFile);
        Assert.Contains(final.Runs, r => r.Address == region.Start);
        Directory.Delete(dir.File("perf"), recursive: true);
        EndsLikeReference(engine, engine.FinishPrecopyRestore(target, final, new RestoreOptions(TryOriginalPid: false)), reference, dir);
    }

    private const string Counters = "perf/counters", ReferenceCounters = "expected/counters";

    /// <summary>sharedfile twice for ROUNDS rounds: an undisturbed reference on its own file, and the run to disturb on
    /// <see cref="Counters"/>, once that has printed <paramref name="lines"/> lines. Both hold after that round until
    /// SIGUSR1 (<see cref="EndsLikeReference"/> sends it), so a slow checkpoint still finds the round it expects.</summary>
    private static Runs StartBesideReference(TempDirectory dir, string rounds, int lines)
    {
        var program = TestPrograms.Locate("sharedfile");
        var runs = new Runs(ChildProcess.StartToFile(program, [dir.File(ReferenceCounters), rounds, "20", $"{lines}"], dir.File("expected.out")),
            ChildProcess.StartToFile(program, [dir.File(Counters), rounds, "20", $"{lines}"], dir.File("out")));
        Poll.UntilLines(dir.File("out"), lines, Patience);
        return runs;
    }

    private sealed record Runs(ChildProcess Reference, ChildProcess Child) : IDisposable
    {
        public void Dispose()
        {
            Child.Dispose();
            Reference.Dispose();
        }
    }

    /// <summary>The restored run ends with code 0, printing what the reference printed and leaving the same file.</summary>
    private static void EndsLikeReference(CheckpointEngine engine, RestoredProcess restored, ChildProcess reference, TempDirectory dir)
    {
        Signals.Kill(restored.Pid, Signals.SIGUSR1);
        Signals.Kill(reference.Pid, Signals.SIGUSR1);
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal(new ChildExit(0, 0), reference.WaitForExit(Patience));
        Assert.Equal(File.ReadAllText(dir.File("expected.out")), File.ReadAllText(dir.File("out")));
        Assert.Equal(File.ReadAllBytes(dir.File(ReferenceCounters)), File.ReadAllBytes(dir.File(Counters)));
    }

    [Fact]
    public void Writable_shared_file_mapping_of_a_file_another_process_maps_is_refused_naming_that_process()
    {
        using var dir = new TempDirectory();
        var program = TestPrograms.Locate("sharedfile");
        var path = dir.File("perf/counters");
        using var writer = ChildProcess.StartToFile(program, [path, "400", "20"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 2, Patience);
        using var watcher = ChildProcess.StartToFile(program, [path, "400", "20", "watch"], dir.File("watch.out"));
        Poll.UntilLines(dir.File("watch.out"), 1, Patience);

        using var engine = new CheckpointEngine();
        var report = engine.AnalyzeCantMove(writer.Pid);
        Assert.Contains(report.Reasons, r => r.StartsWith("has a writable shared mapping at ", StringComparison.Ordinal)
                                             && r.EndsWith($" ({path}) that process {watcher.Pid} also uses", StringComparison.Ordinal));
        Assert.Throws<CantMoveException>(() => engine.Checkpoint(writer.Pid, new InMemoryImage(), new DumpOptions(AfterDump.Kill)));
        Assert.False(writer.HasExited);
        writer.Kill();
        watcher.Kill();
    }

    [Fact]
    public void Writable_shared_file_mapping_of_a_file_another_process_holds_open_is_refused_naming_that_process()
    {
        using var dir = new TempDirectory();
        var path = dir.File("perf/counters");
        using var writer = ChildProcess.StartToFile(TestPrograms.Locate("sharedfile"), [path, "400", "20"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 2, Patience);
        using var holder = ChildProcess.StartToFile("/bin/sh", ["-c", "exec 3<\"$0\"; echo open; exec sleep 60", path], dir.File("holder.out"));
        Poll.UntilLines(dir.File("holder.out"), 1, Patience);
        Poll.Until(() => File.Exists($"/proc/{holder.Pid}/fd/3") && File.ReadAllText($"/proc/{holder.Pid}/comm").StartsWith("sleep", StringComparison.Ordinal),
            Patience, "the holder to be sleep with the file open");

        using var engine = new CheckpointEngine();
        var report = engine.AnalyzeCantMove(writer.Pid);
        Assert.Contains(report.Reasons, r => r.EndsWith($" ({path}) that process {holder.Pid} also uses", StringComparison.Ordinal));
        writer.Kill();
        holder.Kill();
    }
}
