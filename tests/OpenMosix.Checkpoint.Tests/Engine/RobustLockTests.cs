using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// A thread blocked in an untimed lock of a robust mutex keeps the id it started with in glibc's lock: restored under
/// a new id it would take the mutex in the old id's name and fail its unlock (EPERM). thr_robustwait holds such a
/// waiter until told (SIGUSR1), so the thread is in its lock at the checkpoint for certain.
/// </summary>
public sealed class RobustLockTests
{
    [Fact]
    public void A_thread_locking_a_robust_mutex_whose_id_is_taken_is_refused_naming_it_and_comes_back_once_its_id_is_free() =>
        FreeIds.HoldInOneOf(5, () =>
        {
            using var dir = new TempDirectory();
            var output = dir.File("out");
            using var child = ChildProcess.StartToFile(TestPrograms.Locate("thr_robustwait"), [], output);
            Poll.UntilLines(output, 1, Patience);
            var waiter = Assert.Single(ProcFs.ReadTasks(child.Pid), t => t != child.Pid); // made before the line
            Poll.Until(() => File.ReadAllText($"/proc/{child.Pid}/task/{waiter}/syscall").StartsWith("202 ", StringComparison.Ordinal),
                Patience, "the waiter to block in its futex wait");

            using var engine = new CheckpointEngine();
            var image = new InMemoryImage();
            engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
            Assert.Equal(new ChildExit(0, 9), child.WaitForExit(Patience));

            Poll.Until(() => !Directory.Exists($"/proc/{waiter}"), Patience, $"the killed waiter's id {waiter} to be free");
            using (new IdSquatter([waiter]))
            {
                // Held by our squatter for as long as it is needed, not by a passing thread of someone else.
                if (!HeldBySleeper(waiter)) return $"id {waiter} could not be held";
                RestoredProcess? wrong = null;
                try
                {
                    wrong = engine.Restore(image, new RestoreOptions());
                }
                catch (RestoreException refused)
                {
                    Assert.Contains($"thread {waiter} was locking a robust mutex", refused.Message, StringComparison.Ordinal);
                }
                if (wrong is not null)
                {
                    var tasks = string.Join(",", ProcFs.ReadTasks(wrong.Pid));
                    Signals.Kill(wrong.Pid, Signals.SIGKILL);
                    engine.WaitForExitWithin(wrong, Patience);
                    Assert.Fail($"restored, not refused, as {wrong.Pid} with threads {tasks} (the image's: {string.Join(",", image.Metadata.Threads.Select(t => t.Tid))})");
                }
            }
            RestoredProcess restored;
            try
            {
                restored = engine.Restore(image, new RestoreOptions());
            }
            catch (RestoreException e) when (e.Message.Contains("was locking a robust mutex", StringComparison.Ordinal))
            {
                return e.Message; // another process took the id in between (pid_max wraps in minutes under load)
            }
            Assert.Contains(waiter, ProcFs.ReadTasks(restored.Pid));
            Signals.Kill(restored.Pid, Signals.SIGUSR1);
            Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
            Assert.EndsWith("waiter got it\nthr_robustwait done\n", File.ReadAllText(output), StringComparison.Ordinal);
            return null;
        });

    private static bool HeldBySleeper(int id)
    {
        try
        {
            return File.ReadAllText($"/proc/{id}/comm") == "sleep\n" && ProcFs.ReadStatus(id).Tgid == id;
        }
        catch (Exception e) when (e is IOException or ProcessAccessException)
        {
            return false;
        }
    }
}
