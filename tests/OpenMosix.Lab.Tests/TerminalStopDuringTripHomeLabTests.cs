using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Two nodes without balancing or periodic checkpoints (the only freeze is a test's trip home), shared by the tests of
/// <see cref="TerminalStopDuringTripHomeLabTests"/> one after the other. Node 2 holds a process it froze for a checkpoint
/// while <see cref="HoldFreeze"/> exists (omd.toml `checkpoint.test_hold_file`: home has the deputy stopped for the
/// rebuild meanwhile, DeputySignalOnTripHomeLabTests' window), and one whose image it read while
/// <see cref="HoldAfterImage"/> exists (`checkpoint.test_hold_after_image_file`, SignalsAfterImageLabTests' window);
/// only a test's trip creates either file, and always removes it.
/// </summary>
public sealed class TerminalStopDuringTripHomeLab : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    internal TestLab Lab { get; }

    public TerminalStopDuringTripHomeLab()
    {
        Lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance", "--checkpoint-interval", "0");
        try
        {
            var config = File.ReadAllText(Lab.Layout.NodeConfigFile(2));
            File.WriteAllText(Lab.Layout.NodeConfigFile(2), config.Replace("[checkpoint]\n",
                $"[checkpoint]\ntest_hold_file = \"{HoldFreeze}\"\ntest_hold_after_image_file = \"{HoldAfterImage}\"\n", StringComparison.Ordinal));
            Om.Run("lab", "restart", "--name", Lab.Name, "2").Succeeded();
            Poll.Until(() => NodeProbe.StateSeen(Lab, 1, 2) == "alive" && NodeProbe.StateSeen(Lab, 2, 1) == "alive", Patience,
                "nodes 1 and 2 to see each other alive");
        }
        catch
        {
            Lab.Dispose();
            throw;
        }
    }

    internal string HoldFreeze => Path.Combine(Lab.Layout.NodeDirectory(2), "hold-freeze");

    internal string HoldAfterImage => Path.Combine(Lab.Layout.NodeDirectory(2), "hold-after-image");

    public void Dispose() => Lab.Dispose();
}

/// <summary>
/// ^Z typed at home's terminal while a moved foreground job is on its way home (issue #17): the terminal's SIGTSTP goes
/// to the job's process group at home, its deputy, as `kill -TSTP` of the deputy does (DeputySignalOnTripHomeLabTests,
/// SignalsAfterImageLabTests), in two windows held open on node 2: its copy frozen for the trip after its image was
/// read, and the deputy stopped by home for the rebuild while node 2 holds the freeze. The trip must succeed, the job
/// must stop at home and its shell see it stopped, `fg` must go on with it, and its terminal output be whole: each
/// tick once and in order. ^Z is typed once node 2 says it holds the window (and, for the second, once home has the
/// deputy stopped): nothing here waits on the clock.
/// </summary>
public sealed class TerminalStopDuringTripHomeLabTests(TerminalStopDuringTripHomeLab fixture) : IClassFixture<TerminalStopDuringTripHomeLab>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private TestLab Lab => fixture.Lab;

    /// <summary>Once let go, "tick N" every 0.1 s until the file named by argv[2] with ".end" exists, then "done N".</summary>
    private static readonly string Ticker = MovedShellJob.Script("", """
        tick = 0
        while not os.path.exists(sys.argv[2] + ".end"):
            print("tick", tick, flush=True)
            tick += 1
            time.sleep(0.1)
        print("done", tick, flush=True)
        """);

    private static bool Ticked(TmuxTerminal terminal, int tick) => terminal.Lines(2000).Any(l => l == $"tick {tick}");

    /// <summary>The job's ticks on its terminal: "tick N" lines (^Z's echo may share a line with one), in order.</summary>
    private static List<int> Ticks(TmuxTerminal terminal) =>
        [.. terminal.Lines(2000).Select(l => l.Replace("^Z", "", StringComparison.Ordinal).Trim())
            .Where(l => l.StartsWith("tick ", StringComparison.Ordinal)).Select(l => int.Parse(l[5..], System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>The moved job, ticking on node 2, brought home with `om migrate PID home`; once <paramref name="held"/>
    /// says node 2 holds the window (<paramref name="hold"/>'s file exists), ^Z at home's terminal, then the window let
    /// go. The trip must succeed, the job stop at home, its shell say so, `fg` go on with it, and its ticks be whole.</summary>
    private void CtrlZWhileHeld(string mode, string hold, Func<int, string> held, Action<int>? thenAlso = null)
    {
        using var job = MovedShellJob.Start(Lab, "ctrlz", Ticker, mode, background: false);
        job.Release();
        Poll.Until(() => Ticked(job.Terminal, 3), Patience, "the moved job to tick on node 2");
        var copy = Lab.Processes(1).Processes.Single(p => p.Pid == job.Python).RemotePid;
        File.WriteAllText(hold, "");
        var move = Task.Run(() => Lab.Migrate(1, job.Python, "home"));
        try
        {
            Lab.WaitForDaemonLog(2, held(copy), Patience);
            thenAlso?.Invoke(job.Python);
            job.Terminal.Key("C-z");
            // The terminal made a SIGTSTP of it for the job's group at home: its deputy has it pending or took it.
            Poll.Until(() => SignalsOf(job.Python).Contains(Linux.Signals.SIGTSTP) || ProcFs.ReadStat(job.Python).State == 'T', Patience,
                "^Z to reach the job's deputy at home");
        }
        finally
        {
            File.Delete(hold);
        }
        Assert.True(move.Wait(Patience), $"om migrate {job.Python} home did not answer within {Patience.TotalSeconds} s");
        move.GetAwaiter().GetResult();
        Assert.Equal("home", Lab.Processes(1).Processes.Single(p => p.Pid == job.Python).State);
        Poll.Until(() => !Linux.Signals.Exists(copy), Patience, $"the copy {copy} to end on node 2 after the trip home");

        // Stopped at home, and its shell knows: bash says so and lists it among its stopped jobs.
        job.Terminal.Shows(l => l.Contains("Stopped", StringComparison.Ordinal), "the shell to say the job stopped");
        Poll.Until(() => ProcFs.ReadStat(job.Python).State == 'T', Patience, $"the job {job.Python} to be stopped at home");
        job.Terminal.Type("echo stopped $(jobs -sp)");
        job.Terminal.Shows(l => l == $"stopped {job.Python}", "the shell at home to list the job stopped");
        var stoppedAt = Ticks(job.Terminal).Last();

        job.Terminal.Type("fg");
        Poll.Until(() => Ticked(job.Terminal, stoppedAt + 5), Patience, "fg to go on with the job at home");
        File.WriteAllText(job.Go + ".end", "");
        job.Terminal.Shows(l => l.StartsWith("done ", StringComparison.Ordinal), "the job to end");
        var done = int.Parse(job.Terminal.Lines(2000).Single(l => l.StartsWith("done ", StringComparison.Ordinal))[5..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(Enumerable.Range(0, done), Ticks(job.Terminal));
        Assert.DoesNotContain($"process {job.Python} lost", File.ReadAllText(Lab.Layout.NodeDaemonLog(1)), StringComparison.Ordinal);
    }

    /// <summary>The signals pending for <paramref name="pid"/> or its thread group (/proc/PID/status SigPnd, ShdPnd).</summary>
    private static HashSet<int> SignalsOf(int pid)
    {
        var pending = new HashSet<int>();
        foreach (var line in File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("SigPnd:", StringComparison.Ordinal) || l.StartsWith("ShdPnd:", StringComparison.Ordinal)))
        {
            var mask = ulong.Parse(line[7..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            for (var signal = 1; signal <= 64; signal++)
                if ((mask & (1UL << (signal - 1))) != 0) pending.Add(signal);
        }
        return pending;
    }

    [Fact]
    public void Ctrl_z_while_its_copy_is_frozen_after_its_image_home_was_read_stops_the_job_at_home_and_fg_goes_on_with_it_whole() =>
        Lab.ExplainingFailure(() => CtrlZWhileHeld("afterimage", fixture.HoldAfterImage, copy => $"process {copy} frozen, its image read, held while"));

    [Fact]
    public void Ctrl_z_while_home_has_its_deputy_stopped_for_the_trip_home_stops_the_job_at_home_and_fg_goes_on_with_it_whole() =>
        Lab.ExplainingFailure(() => CtrlZWhileHeld("deputyparked", fixture.HoldFreeze, copy => $"process {copy} frozen for a checkpoint, held while",
            deputy => Poll.Until(() => ProcFs.ReadStat(deputy).State == 't', Patience, $"home to stop the deputy {deputy} for the rebuild")));
}
