using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

public sealed class CompatibilityTests
{
    private sealed class Rewritten(ProcessImage metadata) : IImageSource
    {
        public ProcessImage ReadMetadata() => metadata;
        public PageRun? ReadNextPageRun() => null;
        public Action<Task>? WaitForSection { get; set; }
    }

    [Fact]
    public void Image_needing_a_cpu_feature_this_machine_lacks_is_refused_naming_the_feature()
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("counter"), ["30", "2"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 2, Patience);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Resume));
        Signals.Kill(child.Pid, Signals.SIGUSR1);
        var here = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(' ');
        var lacking = new[] { "amx_tile", "avx_vnni", "rtm", "avx512f", "sha_ni" }.FirstOrDefault(f => !here.Contains(f));
        Assert.SkipWhen(lacking is null, "this CPU has every feature the test could claim");

        var m = image.Metadata;
        var origin = new ImageOrigin { Pid = m.Origin.Pid, Command = m.Origin.Command, KernelRelease = m.Origin.KernelRelease, CpuFeatures = m.Origin.CpuFeatures + " " + lacking };
        var forged = new ProcessImage { Origin = origin, Cpu = m.Cpu, Signals = m.Signals, Attributes = m.Attributes, Regions = m.Regions, Files = m.Files };
        var e = Assert.Throws<RestoreException>(() => engine.Restore(new Rewritten(forged), new RestoreOptions()));
        Assert.Equal($"this CPU lacks {lacking}, which the image's process may use", e.Message);
        Assert.Equal(0, child.WaitForExit(Patience).Code);
    }

    [Fact]
    public void Irrelevant_cpu_flags_do_not_block_a_restore()
    {
        CpuCompatibility.Check("fpu vme hypervisor avx2", "fpu avx2");
        var e = Assert.Throws<RestoreException>(() => CpuCompatibility.CheckExtendedStateSize(2432, 832));
        Assert.Contains("CPUs differ", e.Message, StringComparison.Ordinal);
    }
}
