using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Postcopy;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// Post-copy: lazywalk is checkpointed and restored with its memory left missing, served from the image on fault
/// (and, unless a test holds it back, pushed in the background). Its commands walk the memory in a random order,
/// fork, move and discard it, each answer saying what it found and what it should have found.
/// </summary>
public sealed class PostcopyTests
{
    private const int Megabytes = 16;

    [Fact]
    public void Pages_come_by_fault_in_the_random_order_the_process_asks_and_its_memory_is_identical()
    {
        using var run = LazyRun.Start(push: false);
        var sum = run.Ask("sum");
        Assert.Equal($"sum {run.Ready} {run.Ready}", sum);
        var faults = run.Server.FirstFaults;
        Assert.True(run.Server.FaultsServed >= Megabytes * 256 / 16, $"only {run.Server.FaultsServed} faults served");
        var downward = faults.Zip(faults.Skip(1)).Count(p => p.Second < p.First);
        Assert.True(downward > faults.Count / 4, $"{downward} of {faults.Count} faults went to a lower page: not a random walk");
        Assert.Equal(0UL, run.Server.BytesPushed);
        run.Quit();
        Assert.Equal(PostcopyOutcome.ProcessGone, run.Outcome());
    }

    [Fact]
    public void The_background_push_brings_every_page_and_then_leaves_no_userfaultfd_behind()
    {
        using var run = LazyRun.Start(push: true);
        Assert.Equal(PostcopyOutcome.AllPagesIn, run.Outcome());
        Assert.True(run.Server.BytesPushed >= Megabytes * 1048576UL / 2, $"only {run.Server.BytesPushed} bytes pushed");
        var flags = File.ReadLines($"/proc/{run.Pid}/smaps").Where(l => l.StartsWith("VmFlags:", StringComparison.Ordinal));
        Assert.DoesNotContain(flags, l => l.Split(' ').Contains("um"));
        Assert.Equal($"sum {run.Ready} {run.Ready}", run.Ask("sum"));
        run.Quit();
    }

    [Fact]
    public void A_process_that_exits_during_post_copy_ends_the_serving()
    {
        using var run = LazyRun.Start(push: false);
        run.Quit();
        Assert.Equal(PostcopyOutcome.ProcessGone, run.Outcome());
        Assert.True(run.Server.Failure is null);
    }

    [Fact]
    public void A_process_killed_during_post_copy_ends_the_serving()
    {
        using var run = LazyRun.Start(push: false);
        Signals.Kill(run.Pid, Signals.SIGKILL);
        Assert.Equal(new ExitStatus(0, Signals.SIGKILL), run.Exit());
        Assert.Equal(PostcopyOutcome.ProcessGone, run.Outcome());
    }

    [Fact]
    public void A_child_forked_during_post_copy_finds_its_parents_memory()
    {
        using var run = LazyRun.Start(push: false);
        Assert.Equal($"child {run.Ready} {run.Ready}", run.Ask("fork"));
        Assert.Equal("reaped 0", run.NextLine());
        var child = Assert.Single(run.Server.Children);
        // The child may be gone before the background push has brought it every page, or after.
        Assert.NotEqual(PostcopyOutcome.Killed, LazyRun.OutcomeOf(child));
        Assert.Equal($"sum {run.Ready} {run.Ready}", run.Ask("sum"));
        run.Quit();
    }

    [Fact]
    public void Memory_moved_or_discarded_during_post_copy_holds_what_the_process_expects()
    {
        using var run = LazyRun.Start(push: false);
        Assert.Equal("moved", run.Ask("move"));
        Assert.Equal($"sum {run.Ready} {run.Ready}", run.Ask("sum"));
        Assert.Equal("dropped", run.Ask("drop"));
        var parts = run.Ask("sum").Split(' ');
        Assert.Equal(parts[2], parts[1]);
        Assert.NotEqual(run.Ready, parts[1]);
        run.Quit();
    }

    [Fact]
    public void A_page_source_that_fails_kills_the_process_instead_of_letting_it_run_on_zero_pages()
    {
        using var run = LazyRun.Start(push: false, failAfter: 3);
        run.Send("sum");
        Assert.Equal(PostcopyOutcome.Killed, run.Outcome());
        Assert.IsType<IOException>(run.Server.Failure);
        Assert.Equal(new ExitStatus(0, Signals.SIGKILL), run.Exit());
        Assert.DoesNotContain("sum", File.ReadAllText(run.Output), StringComparison.Ordinal);
    }

    /// <summary>lazywalk checkpointed, killed and restored lazily, blocked reading its next command.</summary>
    internal sealed class LazyRun : IDisposable
    {
        private readonly TempDirectory _dir;
        private readonly SafeFileHandle _input;
        private readonly CheckpointEngine _engine;
        private readonly RestoredProcess _restored;
        private int _linesSeen = 1;
        private bool _exited;

        private LazyRun(TempDirectory dir, SafeFileHandle input, CheckpointEngine engine, RestoredProcess restored, string ready)
        {
            _dir = dir;
            _input = input;
            _engine = engine;
            _restored = restored;
            Ready = ready;
        }

        public string Ready { get; }
        public int Pid => _restored.Pid;
        public PostcopyServer Server => _restored.Postcopy ?? throw new InvalidOperationException("nothing was left missing");
        public string Output => _dir.File("out");

        public static LazyRun Start(bool push, int failAfter = int.MaxValue)
        {
            var dir = new TempDirectory();
            var (read, write) = Pipe();
            var (child, ready) = StartWaiting(dir, read, Megabytes);
            using var _ = child;

            var engine = new CheckpointEngine();
            var image = new InMemoryImage();
            engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
            child.WaitForExit(Patience);
            var options = new RestoreOptions(new Dictionary<int, int> { [0] = (int)read.DangerousGetHandle() }, TryOriginalPid: false)
            {
                LazyPages = new DyingLink(new ImagePageSource(image), failAfter),
                PushLazyPages = push,
            };
            var restored = engine.Restore(image, options);
            read.Dispose();
            return new LazyRun(dir, write, engine, restored, ready);
        }

        /// <summary>Starts lazywalk on <paramref name="input"/> and waits for it to fill its memory and wait for a
        /// command; returns it and its checksum.</summary>
        public static (ChildProcess Child, string Ready) StartWaiting(TempDirectory dir, SafeFileHandle input, int megabytes)
        {
            var child = ChildProcess.StartToFile(TestPrograms.Locate("lazywalk"), [megabytes.ToString(System.Globalization.CultureInfo.InvariantCulture)], dir.File("out"), input);
            Poll.UntilLines(dir.File("out"), 1, Patience);
            UntilBlockedIn(child.Pid, 0);
            return (child, File.ReadAllText(dir.File("out")).Trim().Split(' ')[1]);
        }

        public void Send(string command) => WriteAll(_input, command + "\n");

        public string Ask(string command)
        {
            Send(command);
            return NextLine();
        }

        public string NextLine()
        {
            _linesSeen++;
            Poll.UntilLines(Output, _linesSeen, Patience);
            return File.ReadLines(Output).ElementAt(_linesSeen - 1);
        }

        public void Quit()
        {
            Send("quit");
            Assert.Equal(new ExitStatus(0, 0), Exit());
        }

        public ExitStatus Exit()
        {
            _exited = true;
            return _engine.WaitForExitWithin(_restored, Patience);
        }

        public PostcopyOutcome Outcome() => OutcomeOf(Server);

        public static PostcopyOutcome OutcomeOf(PostcopyServer server) =>
            server.Completion.Wait(Patience) ? server.Completion.Result : throw new TimeoutException("post-copy serving did not end");

        public void Dispose()
        {
            _input.Dispose();
            if (!_exited)
            {
                Signals.Kill(_restored.Pid, Signals.SIGKILL);
                _engine.WaitForExit(_restored);
            }
            _restored.Postcopy?.Dispose();
            _engine.Dispose();
            _dir.Dispose();
        }
    }
}
