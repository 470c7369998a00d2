using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>The dump's buffers are shared by every engine of a process: these tests run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IdleTrimCollection
{
    public const string Name = "idle trim";
}

/// <summary>
/// An engine with <see cref="CheckpointEngine.TrimWhenIdle"/> (omd's) gives back what its checkpoints leave behind
/// once none has run for that long.
/// </summary>
[Collection(IdleTrimCollection.Name)]
public sealed class IdleTrimTests
{
    [Fact]
    public void The_buffers_a_checkpoint_keeps_are_given_back_once_the_engine_has_been_idle()
    {
        using var engine = new CheckpointEngine { TrimWhenIdle = TimeSpan.FromMilliseconds(300) };
        CheckpointASleeper(engine);
        Assert.True(ChunkBuffers.Kept > 0, "a dump keeps its buffers for the next one");
        Poll.Until(() => ChunkBuffers.Kept == 0, Patience, "the idle engine to give its buffers back");
    }

    private static void CheckpointASleeper(CheckpointEngine engine)
    {
        using var child = ChildProcess.Start("/bin/sleep", ["30"]);
        Poll.Until(() => File.ReadAllText($"/proc/{child.Pid}/cmdline").Contains("30", StringComparison.Ordinal), Patience, "sleep to run");
        engine.Checkpoint(child.Pid, new InMemoryImage(), new DumpOptions(AfterDump.Resume));
    }
}
