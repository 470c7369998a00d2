using System.Text;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

public sealed class InternalPipeTests
{
    [Fact]
    public void A_pipe_the_process_holds_both_ends_of_travels_with_its_buffered_bytes_and_stays_in_the_original()
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("selfpipe"), ["40", "6"], dir.File("out"));
        // Round 6 has queued token-005 and token-006 since the drain at round 4, and selfpipe holds there until
        // SIGUSR1, so the checkpoint finds exactly those however late it comes.
        Poll.Until(() => File.ReadAllText(dir.File("out")).Contains("round 6 queued", StringComparison.Ordinal), Patience, "round 6");
        using var engine = new CheckpointEngine();
        Assert.True(engine.AnalyzeCantMove(child.Pid).CanMove);

        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Resume));

        var ends = image.Metadata.Files.Where(f => f.Kind == FileKind.InternalPipe).ToList();
        Assert.Equal(2, ends.Count);
        Assert.Single(ends.Select(e => e.Path).Distinct());
        var carried = Encoding.ASCII.GetString([.. ends.SelectMany(e => e.PipeContents)]);
        Assert.Equal("token-005;token-006;", carried);
        // Peeking took nothing out: the original drains every token it queued.
        Signals.Kill(child.Pid, Signals.SIGUSR1);
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(Patience));
        var output = File.ReadAllText(dir.File("out"));
        Assert.Contains("round 9 drained: token-005;token-006;token-007;token-008;token-009;", output, StringComparison.Ordinal);
    }
}
