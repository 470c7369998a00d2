using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// The shared C targets, each checkpointed mid-run with the kill option and restored: the restored run must end
/// exactly as an uninterrupted run of the same program does (same output, same exit code or signal).
/// "{dir}" in an argument is a per-run directory holding input.bin (1 MiB of fixed bytes).
/// </summary>
public sealed class ProgramRoundTripTests
{
    [Theory]
    [InlineData("avxmath", "12 10000000", 3)]
    [InlineData("clockwatch", "25 20", 5)]
    [InlineData("cwdumask", "{dir} 20 30", 5)]
    [InlineData("exitcode", "7 20 30", 5)]
    [InlineData("fileio", "{dir}/input.bin {dir}/output.bin 8192 6", 4)]
    [InlineData("filemap", "{dir}/input.bin 40 20", 5)]
    [InlineData("heapsum", "16 20", 3)]
    [InlineData("killself", "20 30", 5)]
    [InlineData("selfpipe", "60", 7)]
    [InlineData("signals", "40 25", 8)]
    [InlineData("sleeper", "20 40", 4)]
    public void Restored_target_ends_exactly_like_an_uninterrupted_run(string program, string arguments, int afterLines)
    {
        using var dir = new TempDirectory();
        var path = TestPrograms.Locate(program);
        string[] Args(string run)
        {
            var runDir = Path.Combine(dir.Path, run);
            Directory.CreateDirectory(runDir);
            var input = new byte[1 << 20];
            for (var i = 0; i < input.Length; i++) input[i] = (byte)(i * 31 + i / 4096);
            File.WriteAllBytes(Path.Combine(runDir, "input.bin"), input);
            return arguments.Replace("{dir}", runDir, StringComparison.Ordinal).Split(' ');
        }

        using var reference = ChildProcess.StartToFile(path, Args("reference"), dir.File("expected"));
        using var child = ChildProcess.StartToFile(path, Args("run"), dir.File("out"));
        Poll.UntilLines(dir.File("out"), afterLines, Patience);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        Assert.Equal(9, child.WaitForExit(Patience).Signal);

        var restored = engine.Restore(image, new RestoreOptions());
        var exit = engine.WaitForExitWithin(restored, Patience);
        var expected = reference.WaitForExitWhileItRuns(Patience);
        Assert.Equal((expected.Code, expected.Signal), (exit.Code, exit.Signal));
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
        if (File.Exists(Path.Combine(dir.Path, "reference", "output.bin")))
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir.Path, "reference", "output.bin")), File.ReadAllBytes(Path.Combine(dir.Path, "run", "output.bin")));
    }
}
