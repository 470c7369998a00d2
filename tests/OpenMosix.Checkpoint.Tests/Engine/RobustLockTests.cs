using System.Collections.Concurrent;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// A thread blocked in the lock of a robust mutex keeps the id it started with in glibc's lock: restored under a new
/// id it would take the mutex in the old id's name and fail its unlock (EPERM). A move between nodes of one PID
/// namespace (the lab) restores the copy while the original still holds the ids, and home gives them back only once
/// it has made the original a deputy, which took over the 2 s a copy's thread waits for its id on a loaded machine.
/// thr_robustwait holds such a waiter until told (SIGUSR1), so it is in its lock at the checkpoint for certain.
/// </summary>
public sealed class RobustLockTests
{
    [Fact]
    public async Task A_thread_locking_a_robust_mutex_waits_for_its_id_past_the_other_threads_patience_and_takes_the_mutex_once_let_go()
    {
        using var dir = new TempDirectory();
        var output = dir.File("out");
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("thr_robustwait"), [], output);
        Poll.UntilLines(output, 1, Patience);
        var waiter = Assert.Single(ProcFs.ReadTasks(child.Pid), t => t != child.Pid); // made before the line
        Poll.Until(() => File.ReadAllText($"/proc/{child.Pid}/task/{waiter}/syscall").StartsWith("202 ", StringComparison.Ordinal),
            Patience, "the waiter to block in its futex wait");

        var log = new ConcurrentQueue<string>();
        using var home = new CheckpointEngine();
        using var away = new CheckpointEngine(new TestOutputLoggerFactory(log.Enqueue, Microsoft.Extensions.Logging.LogLevel.Information));
        var image = new InMemoryImage();
        home.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.KeepFrozen));
        // No patience for the other threads: only the one locking is let wait, as long as home takes (bounded).
        var copy = away.Restore(image, new RestoreOptions(TryOriginalPid: false)
        {
            KeepFrozen = true, WaitForOriginalThreadIds = TimeSpan.Zero, WaitForOriginalLockerIds = Patience,
        });
        // Home makes the original a deputy, which gives the waiter's id back, only once the restorer reports it found
        // the waiter locking and waits for that id: the copy's let-go below cannot be over before.
        var deputy = Task.Run(() =>
        {
            try
            {
                Poll.Until(() => log.Any(l => l.Contains($"thread {waiter} was locking a robust mutex; it waits for its id", StringComparison.Ordinal)),
                    Patience, "the restorer to find the waiter locking");
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}; the restorer logged: {string.Join(" | ", log)}", e);
            }
            Assert.True(Signals.Exists(waiter), "the original gave the waiter's id back before it was a deputy");
            home.MakeDeputy(child.Pid);
        }, TestContext.Current.CancellationToken);
        away.Thaw(copy.Pid);
        await deputy.WaitAsync(Patience, TestContext.Current.CancellationToken);

        Assert.Contains(waiter, ProcFs.ReadTasks(copy.Pid));
        Signals.Kill(copy.Pid, Signals.SIGUSR1);
        Assert.Equal(new ExitStatus(0, 0), away.WaitForExitWithin(copy, Patience));
        Assert.EndsWith("waiter got it\nthr_robustwait done\n", File.ReadAllText(output), StringComparison.Ordinal);
        home.EndDeputy(child.Pid, new ExitStatus(0, 0));
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(Patience));
    }

    /// <summary>Why: the same copy let go with no wait for ids gives the waiter a new one (the original holds its
    /// own), and glibc's lock, which started under the old id, takes the mutex in that id's name.</summary>
    [Fact]
    public void A_thread_locking_a_robust_mutex_restored_under_a_new_id_takes_it_in_its_old_ids_name_and_cannot_unlock_it()
    {
        using var dir = new TempDirectory();
        var output = dir.File("out");
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("thr_robustwait"), [], output);
        Poll.UntilLines(output, 1, Patience);
        var waiter = Assert.Single(ProcFs.ReadTasks(child.Pid), t => t != child.Pid);
        Poll.Until(() => File.ReadAllText($"/proc/{child.Pid}/task/{waiter}/syscall").StartsWith("202 ", StringComparison.Ordinal),
            Patience, "the waiter to block in its futex wait");
        using var home = new CheckpointEngine();
        using var away = new CheckpointEngine();
        var image = new InMemoryImage();
        home.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.KeepFrozen));
        var copy = away.Restore(image, new RestoreOptions(TryOriginalPid: false) { KeepFrozen = true });
        away.Thaw(copy.Pid);
        home.MakeDeputy(child.Pid);

        Assert.DoesNotContain(waiter, ProcFs.ReadTasks(copy.Pid));
        Signals.Kill(copy.Pid, Signals.SIGUSR1);
        Assert.Equal(new ExitStatus(1, 0), away.WaitForExitWithin(copy, Patience));
        Assert.Contains("FAIL waiter unlock: Operation not permitted", File.ReadAllText(output), StringComparison.Ordinal);
        home.EndDeputy(child.Pid, new ExitStatus(0, 0));
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(Patience));
    }
}
