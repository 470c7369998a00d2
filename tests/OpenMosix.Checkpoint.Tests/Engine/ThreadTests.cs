using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Checkpoint.Tracing;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;
using static OpenMosix.Checkpoint.Tests.Engine.ThreadFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// Issue #14: multithreaded processes are frozen whole and come back with every thread. The thr_* targets check
/// their own per-thread state every round and print what each thread did, so a restored run that lost or mixed up
/// any thread's state cannot print what an uninterrupted run prints.
/// </summary>
public sealed class ThreadTests
{
    [Theory]
    [InlineData("thr_blocking", "40 50 0", 8, 10)]
    [InlineData("thr_blocking", "40 50 1", 8, 11)]
    [InlineData("thr_churn", "40 20", 10, 2)]
    [InlineData("thr_state", "40 50", 8, 5)]
    [InlineData("thr_robust", "30 50", 3, 3)]   // the holder holds the robust mutex, the waiter is in timedlock
    [InlineData("thr_robust", "30 50", 13, 3)]  // the dier holds it (robust list) and will die with it
    [InlineData("thr_compute", "4 32 20 50", 5, 5)]
    [InlineData("threaded", "40 50", 5, 3)]
    public void Restored_multithreaded_target_ends_exactly_like_an_uninterrupted_run(string program, string arguments, int afterLines, int threads) =>
        KillThenRestore(TestPrograms.Locate(program), arguments.Split(' '), afterLines, threads);

    /// <summary>On a busy machine the ids of a killed process are recycled before its restore: threads come back with
    /// new ids, and what names a holder by id (robust and error-checking mutexes, glibc's cached tid) follows. Holding
    /// only some of the ids makes chains: a thread is given the old id of another, which then needs a third.</summary>
    [Theory]
    [InlineData("thr_robust", "30 50", 3, 3, "main")]   // the main thread takes the holder's id, the holder the waiter's
    [InlineData("thr_robust", "30 50", 3, 3, "first")]  // the holder takes the waiter's id while the waiter is locking
    [InlineData("thr_robust", "30 50", 3, 3, "all")]
    [InlineData("thr_robust", "30 50", 13, 3, "first")] // the dier holds it (robust list) and will die with it
    [InlineData("thr_robust", "30 50", 13, 3, "all")]
    [InlineData("thr_state", "40 50", 8, 5, "main")]
    [InlineData("thr_state", "40 50", 8, 5, "all")]
    public void Restored_target_whose_ids_were_recycled_meanwhile_ends_exactly_like_an_uninterrupted_run(
        string program, string arguments, int afterLines, int threads, string held) =>
        RunDisturbedBesideUndisturbed(TestPrograms.Locate(program), arguments.Split(' '), (child, output) =>
        {
            Poll.UntilLines(output, afterLines, Patience);
            UntilThreads(child.Pid, threads);
            IdSquatter? squatter = null;
            try
            {
                var exit = CheckpointKillAndRestoreEndingWith(child, Patience, image =>
                {
                    int[] ids = [image.Origin.Pid, .. image.Threads.Select(t => t.Tid).Order()];
                    squatter = new IdSquatter(held switch { "main" => ids[..1], "first" => ids[1..2], _ => ids });
                    return restored => Assert.DoesNotContain(ids[held == "first" ? 1 : 0], OpenMosix.Linux.Proc.ProcFs.ReadTasks(restored.Pid));
                });
                Assert.True(exit == new ExitStatus(0, 0), $"restored copy {exit}; it printed:\n{File.ReadAllText(output)}");
            }
            finally
            {
                squatter?.Dispose();
            }
        });

    [Theory]
    [InlineData("thr_blocking", "40 50 0", 8, 10)]
    [InlineData("thr_state", "40 50", 8, 5)]
    [InlineData("thr_robust", "30 50", 13, 3)]
    public void Resumed_multithreaded_target_keeps_every_thread_working(string program, string arguments, int afterLines, int threads) =>
        RunDisturbedBesideUndisturbed(TestPrograms.Locate(program), arguments.Split(' '), (child, output) =>
        {
            Poll.UntilLines(output, afterLines, Patience);
            UntilThreads(child.Pid, threads);
            using var engine = new CheckpointEngine();
            engine.CheckpointAndResume(child.Pid);
            Assert.Equal(new ChildExit(0, 0), child.WaitForExitWhileItRuns(Patience));
        });

    [Fact]
    public void Threads_being_created_and_exiting_survive_repeated_checkpoints_with_resume() =>
        RunDisturbedBesideUndisturbed(TestPrograms.Locate("thr_churn"), ["60", "20"], (child, output) =>
        {
            using var engine = new CheckpointEngine();
            for (var round = 5; round <= 40; round += 5)
            {
                Poll.UntilLines(output, round, Patience);
                engine.CheckpointAndResume(child.Pid);
            }
            Assert.Equal(new ChildExit(0, 0), child.WaitForExitWhileItRuns(Patience));
        });

    [Fact]
    public void A_thread_born_while_the_others_are_being_stopped_is_stopped_and_saved_with_them()
    {
        using var dir = new TempDirectory();
        var output = dir.File("out");
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("thr_latecomer"), [], output);
        Poll.UntilLines(output, 1, Patience);
        UntilThreads(child.Pid, 2);
        // Once the freezer has read the task list (main stopped, its midwife listed but not yet stopped), the midwife
        // is made to create a thread: only a later look at the list can find it.
        IReadOnlyList<int> listedFirst = [];
        ThreadGroup.TaskListReadHooks[child.Pid] = (pass, tasks) =>
        {
            if (pass != 0) return;
            listedFirst = tasks;
            Signals.Kill(child.Pid, Signals.SIGUSR1);
            Poll.Until(() => ThreadCount(child.Pid) == 3, Patience, "the midwife to make its newborn");
        };
        try
        {
            using var engine = new CheckpointEngine();
            var image = new InMemoryImage();
            var result = engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Resume));
            var newborn = Assert.Single(ProcFs.ReadTasks(child.Pid), tid => !listedFirst.Contains(tid));
            Assert.Equal([newborn], result.ThreadsBornWhileFreezing);
            Assert.Contains(newborn, image.Metadata.Threads.Select(t => t.Tid));
        }
        finally
        {
            ThreadGroup.TaskListReadHooks.TryRemove(child.Pid, out _);
        }
        // Resumed whole: the newborn takes its signal and ends, the midwife joins it, the program ends as unfrozen.
        Signals.Kill(child.Pid, Signals.SIGUSR2);
        Assert.Equal(new ChildExit(0, 0), child.WaitForExitWhileItRuns(Patience));
        Assert.Equal("ready\ndone\n", File.ReadAllText(output));
    }

    [Fact]
    public void Restored_multithreaded_process_can_be_checkpointed_and_restored_again() =>
        RunDisturbedBesideUndisturbed(TestPrograms.Locate("thr_state"), ["50", "40"], (child, output) =>
        {
            Poll.UntilLines(output, 8, Patience);
            UntilThreads(child.Pid, 5);
            using var engine = new CheckpointEngine();
            var first = new InMemoryImage();
            engine.Checkpoint(child.Pid, first, new DumpOptions(AfterDump.Kill));
            Assert.Equal(new ChildExit(0, 9), child.WaitForExit(Patience));

            var once = engine.Restore(first, new RestoreOptions());
            Poll.UntilLines(output, 20, Patience);
            UntilThreads(once.Pid, 5);
            var second = new InMemoryImage();
            engine.Checkpoint(once.Pid, second, new DumpOptions(AfterDump.Kill));
            Assert.Equal(new ExitStatus(0, 9), engine.WaitForExitWithin(once, Patience));

            var twice = engine.Restore(second, new RestoreOptions());
            Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(twice, Patience));
        });

    [Fact]
    public void Restored_threads_get_back_their_ids_and_names_when_the_ids_are_free() => FreeIds.HoldInOneOf(5, () =>
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("thr_state"), ["40", "50"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 5, Patience);
        UntilThreads(child.Pid, 5);
        var before = NamedThreads(child.Pid);
        Assert.Equal(["state-0", "state-1", "state-2", "state-3", "thr_state"], before.Select(t => t.Name).Order(StringComparer.Ordinal));

        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        Assert.Equal(new ChildExit(0, 9), child.WaitForExit(Patience));
        Assert.Equal(5, ThreadsIn(image.Metadata));

        var restored = engine.Restore(image, new RestoreOptions());
        var after = NamedThreads(restored.Pid);
        Assert.Equal(before.Select(t => t.Name).Order(StringComparer.Ordinal), after.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.EndsWith("thr_state done threads=4 rounds=40\n", File.ReadAllText(dir.File("out")), StringComparison.Ordinal);
        return before.SequenceEqual(after) ? null : $"threads {string.Join(",", before)} came back as {string.Join(",", after)}";
    });

    [Fact]
    public void Image_of_a_four_thread_process_holds_four_thread_records()
    {
        using var dir = new TempDirectory();
        // The main thread and three workers.
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("thr_compute"), ["3", "8", "400", "50"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 2, Patience);
        UntilThreads(child.Pid, 4);
        using var engine = new CheckpointEngine();
        var image = engine.CheckpointAndResume(child.Pid);
        Assert.Equal(4, ThreadsIn(image.Metadata));
        Assert.Equal(4, ThreadCount(child.Pid));
    }

    [Fact]
    public void Multithreaded_process_is_not_refused_for_its_threads()
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("thr_state"), ["100", "50"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 1, Patience);
        using var engine = new CheckpointEngine();
        var report = engine.AnalyzeCantMove(child.Pid);
        Assert.True(report.CanMove, string.Join("; ", report.Reasons));
    }
    [Fact]
    public void A_process_one_of_whose_threads_someone_else_traces_is_refused_naming_that_thread_and_runs_on()
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("threaded"), ["200", "20"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 1, Patience);
        var worker = OpenMosix.Linux.Proc.ProcFs.ReadTasks(child.Pid).First(t => t != child.Pid);
        // strace -p on a thread id attaches to that thread alone.
        using var strace = ChildProcess.StartToFile("/usr/bin/strace", ["-o", "/dev/null", "-p", $"{worker}"], dir.File("strace"));
        Poll.Until(() => OpenMosix.Linux.Proc.ProcStatus.Parse(File.ReadAllText($"/proc/{child.Pid}/task/{worker}/status")).TracerPid == strace.Pid,
            Patience, "strace to trace the worker thread");

        using var engine = new CheckpointEngine();
        var reason = $"its thread {worker} is being traced by process {strace.Pid}";
        Assert.Contains(reason, engine.AnalyzeCantMove(child.Pid).Reasons);
        var refused = Assert.Throws<CantMoveException>(() => engine.Checkpoint(child.Pid, new InMemoryImage(), new DumpOptions(AfterDump.Kill)));
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, OpenMosix.Linux.Proc.ProcFs.ReadStatus(child.Pid).TracerPid);
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(TimeSpan.FromSeconds(60)));
    }
    /// <summary>Restored beside its running original, every thread id is taken: the copy's threads get new ones, and
    /// the error-checking mutex a thread of thr_state holds across its sleep still unlocks (its owner id follows).</summary>
    [Theory]
    [InlineData("thr_state", "40 50", 8, 5)]
    [InlineData("thr_robust", "30 50", 3, 3)]   // the holder holds the robust mutex, the waiter is in timedlock
    [InlineData("thr_robust", "30 50", 13, 3)]  // the dier holds it and will die with it
    public void A_copy_restored_beside_its_running_original_gets_new_thread_ids_and_still_unlocks_what_its_threads_hold(
        string program, string arguments, int afterLines, int threads) =>
        RunDisturbedBesideUndisturbed(TestPrograms.Locate(program), arguments.Split(' '), (child, output) =>
        {
            Poll.UntilLines(output, afterLines, Patience);
            UntilThreads(child.Pid, threads);
            using var engine = new CheckpointEngine();
            var image = engine.CheckpointAndResume(child.Pid);
            // Both write the same bytes at the same offsets of the output file: it ends as one run would leave it.
            var copy = engine.Restore(image, new RestoreOptions());
            var copyThreads = OpenMosix.Linux.Proc.ProcFs.ReadTasks(copy.Pid);
            Assert.Equal(ThreadsIn(image.Metadata), copyThreads.Count);
            Assert.Empty(copyThreads.Intersect(image.Metadata.Threads.Select(t => t.Tid)));
            Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(copy, Patience));
            Assert.Equal(new ChildExit(0, 0), child.WaitForExitWhileItRuns(Patience));
        });
}
