using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

// Counts this process's children to prove a failed restore leaves no stub behind: no other test may start or reap
// children meanwhile, so this class runs alone.
[Collection(ProcessTreeSensitive.Name)]
public sealed class FileMappingTests
{
    private static byte[] Contents(int seed)
    {
        var bytes = new byte[1 << 20];
        for (var i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i * seed + i / 4096);
        return bytes;
    }

    private static IEnumerable<MemoryRegion> MappingsOf(InMemoryImage image, string path) =>
        image.Metadata.Regions.Where(r => r.Name.StartsWith(path, StringComparison.Ordinal));

    [Fact]
    public void Untouched_pages_of_a_mapped_file_stay_out_of_the_image_and_come_back_from_the_file()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("data.bin"), Contents(31));
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("filemap"), [dir.File("data.bin"), "30", "20"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 3, Patience);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);

        var mappings = MappingsOf(image, dir.File("data.bin")).ToList();
        Assert.NotEmpty(mappings);
        Assert.All(mappings, m => Assert.False(m.AllPagesStored));
        var stored = mappings.Sum(m => image.Runs.Where(r => r.Address >= m.Start && r.Address < m.End).Sum(r => (long)r.Data.Length));
        Assert.True(stored < mappings.Sum(m => (long)m.Length), "every page of the file mappings was stored");

        var restored = engine.Restore(image, new RestoreOptions());
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal(Contents(31), File.ReadAllBytes(dir.File("data.bin")));
    }

    [Fact]
    public void Mapped_file_replaced_before_the_checkpoint_travels_whole_and_the_run_ends_like_a_reference_run_whose_file_was_replaced()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("ref.bin"), Contents(31));
        File.WriteAllBytes(dir.File("data.bin"), Contents(31));
        var program = TestPrograms.Locate("filemap");
        using var reference = ChildProcess.StartToFile(program, [dir.File("ref.bin"), "30", "20"], dir.File("expected"));
        using var child = ChildProcess.StartToFile(program, [dir.File("data.bin"), "30", "20"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 3, Patience);
        // Both runs get their file replaced underneath them (the program notices at its end, and says so).
        foreach (var name in new[] { "ref.bin", "data.bin" })
        {
            File.WriteAllBytes(dir.File("new.bin"), Contents(7));
            File.Move(dir.File("new.bin"), dir.File(name), overwrite: true);
        }

        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        Assert.All(MappingsOf(image, dir.File("data.bin")), m => Assert.True(m.AllPagesStored));

        var restored = engine.Restore(image, new RestoreOptions());
        var exit = engine.WaitForExitWithin(restored, Patience);
        Assert.Equal(reference.WaitForExit(Patience).Code, exit.Code);
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }

    [Fact]
    public void Restore_refuses_a_mapped_file_changed_since_the_checkpoint_and_leaves_no_process_behind()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("data.bin"), Contents(31));
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("filemap"), [dir.File("data.bin"), "30", "20"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 3, Patience);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        File.AppendAllText(dir.File("data.bin"), "changed");

        var childrenBefore = ChildrenOfThisProcess();
        var e = Assert.Throws<RestoreException>(() => engine.Restore(image, new RestoreOptions()));
        Assert.Contains("changed since the checkpoint", e.Message, StringComparison.Ordinal);
        Assert.Equal(childrenBefore, ChildrenOfThisProcess());
    }

    private sealed class BogusRunSource(ProcessImage metadata) : IImageSource
    {
        private bool _sent;
        public ProcessImage ReadMetadata() => metadata;
        public Action<Task>? WaitForSection { get; set; }

        public PageRun? ReadNextPageRun()
        {
            if (_sent) return null;
            _sent = true;
            return new PageRun(0x1000, new byte[4096]);
        }
    }

    [Fact]
    public void Page_run_outside_every_region_is_a_corrupt_image()
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("counter"), ["30", "2"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 2, Patience);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Resume));
        OpenMosix.Linux.Signals.Kill(child.Pid, OpenMosix.Linux.Signals.SIGUSR1);

        var e = Assert.Throws<CorruptImageException>(() => engine.Restore(new BogusRunSource(image.Metadata), new RestoreOptions { TryOriginalPid = false }));
        Assert.Contains("outside the image's memory regions", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, child.WaitForExit(Patience).Code);
    }

    // Children still in /proc (running or zombie) whose parent is this process.
    private static HashSet<int> ChildrenOfThisProcess()
    {
        var me = Environment.ProcessId;
        var result = new HashSet<int>();
        foreach (var d in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(d), out var pid)) continue;
            try
            {
                if (OpenMosix.Linux.Proc.ProcFs.ReadStat(pid).PPid == me) result.Add(pid);
            }
            catch (OpenMosix.Linux.ProcessAccessException)
            {
            }
        }
        return result;
    }
}
