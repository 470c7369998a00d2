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
        using var original = FrozenOriginal.Start();
        var engine = original.Engine;
        var image = original.Checkpoint();
        var copy = original.RestoreCopy(image, new DyingLink(new FrozenProcessPages(original.Process.Pid), linkDiesAfter), push: false);
        using var server = copy.Postcopy ?? throw new InvalidOperationException("nothing was left missing");

        original.Send("sum");
        if (linkDiesAfter == int.MaxValue)
        {
            original.UntilLines(2);
            original.Send("quit");
            Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(copy, Patience));
            Assert.Equal(PostcopyOutcome.ProcessGone, await server.Completion.WaitAsync(Patience, TestContext.Current.CancellationToken));
        }
        else
        {
            Assert.Equal(PostcopyOutcome.Killed, await server.Completion.WaitAsync(Patience, TestContext.Current.CancellationToken));
            Assert.Equal(new ExitStatus(0, Signals.SIGKILL), engine.WaitForExitWithin(copy, Patience));
            // The copy read the command before it died (here nothing forwards its input): it is asked again.
            original.Send("sum");
        }
        // Home takes the process back (here: in both cases, to end it): it runs on, intact, from where it was frozen.
        original.Thaw();
        original.UntilLines(2);
        original.Quit();
        Assert.Equal($"sum {original.Ready} {original.Ready}", original.SumLine);
    }
}
