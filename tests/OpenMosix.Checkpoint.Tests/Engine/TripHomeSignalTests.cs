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
/// A signal sent to a deputy while it waits, stopped, for the image of its trip home (issue #17): home stops the deputy
/// as the image is announced, and its copy may stay frozen elsewhere for long. Until 2026-12-07 a SIGTSTP sent then
/// failed a pre-copied trip home ("unexpected stop (stopped by signal 20 event 0)" in the rebuild): the deputy was
/// stopped with every signal open, and the first injected call met it. Now it waits in the deputy's queue and the
/// process, rebuilt into it, gets it when let go: not forwarded to the copy, which is gone. memticker ticks until
/// SIGUSR1, then prints its checksum and ends.
/// </summary>
public sealed class TripHomeSignalTests
{
    private static char State(int pid) => File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2][0];

    /// <summary>An image source that runs <paramref name="first"/> before its metadata is read: the deputy is stopped
    /// for its rebuild by then, as at home while the copy's node still reads it.</summary>
    private sealed class FirstThen(IImageSource inner, Action first) : IImageSource
    {
        public ProcessImage ReadMetadata()
        {
            first();
            return inner.ReadMetadata();
        }

        public PageRun? ReadNextPageRun() => inner.ReadNextPageRun();

        public Action<Task>? WaitForSection
        {
            get => inner.WaitForSection;
            set => inner.WaitForSection = value;
        }
    }

    /// <summary>memticker moved away and brought home (pre-copied or not), <paramref name="signal"/> sent to its
    /// deputy once it is stopped for the rebuild; returns the process at home (let go) and what was reported for
    /// forwarding meanwhile.</summary>
    private static (ChildProcess Child, List<int> Forwarded) HomeWithSignal(TempDirectory dir, bool precopied, int signal)
    {
        var output = dir.File("out");
        var child = ChildProcess.StartToFile(TestPrograms.Locate("memticker"), ["8", "usr1", "20"], output);
        try
        {
            Poll.UntilLines(output, 3, Patience);
            using var home = new CheckpointEngine();
            using var away = new CheckpointEngine();
            var forwarded = new List<int>();
            home.DeputySignal += (pid, s) => { lock (forwarded) forwarded.Add(s.Number); };
            var copy = HomecomingTests.MoveAway(home, away, child.Pid);
            Poll.UntilLines(output, Poll.CountLines(output) + 3, Patience);
            var signalled = false;
            void Signal()
            {
                Assert.Equal('t', State(child.Pid));
                Signals.Kill(child.Pid, signal);
                signalled = true;
            }

            if (precopied)
            {
                using var session = away.StartPrecopy(copy.Pid)!;
                PrecopyTarget target;
                using (var round = HomecomingTests.Round(session)) target = home.BeginPrecopyInto(child.Pid, round);
                var final = new MemoryStream();
                using (var writer = new ImageWriter(final, new ImageWriterOptions(LeaveOpen: true)))
                    away.Checkpoint(copy.Pid, writer, new DumpOptions(AfterDump.KeepFrozen) { Precopy = session });
                away.KillFrozen(copy.Pid);
                final.Position = 0;
                using var reader = new ImageReader(final);
                Assert.Equal(child.Pid, home.FinishPrecopyInto(target, new FirstThen(reader, Signal), new RestoreOptions()).Pid);
            }
            else
            {
                var image = new InMemoryImage();
                away.Checkpoint(copy.Pid, image, new DumpOptions(AfterDump.KeepFrozen));
                away.KillFrozen(copy.Pid);
                Assert.Equal(child.Pid, home.RestoreInto(child.Pid, new FirstThen(image, Signal), new RestoreOptions()).Pid);
            }
            Assert.True(signalled, "the rebuild read no image");
            return (child, forwarded);
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    private static void EndsWhole(ChildProcess child, string output)
    {
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(Patience));
        Assert.StartsWith("memticker done sum=", File.ReadLines(output).Last(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_SIGTSTP_sent_to_the_deputy_while_it_waits_for_its_image_home_stops_the_process_at_home(bool precopied)
    {
        using var dir = new TempDirectory();
        var (child, forwarded) = HomeWithSignal(dir, precopied, Signals.SIGTSTP);
        using var _ = child;
        Poll.Until(() => State(child.Pid) == 'T', Patience, "the process at home to stop by the SIGTSTP sent to its deputy");
        lock (forwarded) Assert.Empty(forwarded);

        Signals.Kill(child.Pid, Signals.SIGCONT);
        var lines = Poll.CountLines(dir.File("out"));
        Poll.UntilLines(dir.File("out"), lines + 2, Patience);
        Signals.Kill(child.Pid, Signals.SIGUSR1);
        EndsWhole(child, dir.File("out"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_SIGUSR1_sent_to_the_deputy_while_it_waits_for_its_image_home_reaches_the_process_at_home(bool precopied)
    {
        using var dir = new TempDirectory();
        var (child, forwarded) = HomeWithSignal(dir, precopied, Signals.SIGUSR1);
        using var _ = child;
        EndsWhole(child, dir.File("out"));
        lock (forwarded) Assert.Empty(forwarded);
    }
}
