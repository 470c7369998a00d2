using System.Collections;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>What the multithreaded checkpoint tests (issue #14) share: thread counts, and a checkpoint-kill-restore
/// round trip compared byte for byte with an uninterrupted run.</summary>
internal static class ThreadFixtures
{
    public static int ThreadCount(int pid) => ProcFs.ReadStatus(pid).Threads;

    /// <summary>Waits until the process runs at least <paramref name="threads"/> threads: a test about threads must not
    /// checkpoint a moment where there is only one.</summary>
    public static void UntilThreads(int pid, int threads) =>
        Poll.Until(() => ThreadCount(pid) >= threads, Patience, $"process {pid} to run {threads} threads");

    /// <summary>How many threads an image holds: the main thread plus one record per other thread.</summary>
    public static int ThreadsIn(ProcessImage image) => 1 + image.Threads.Count;

    /// <summary>
    /// Starts <paramref name="program"/> twice with the same arguments; <paramref name="disturb"/> acts on the second
    /// run (given the process and its output file) and sees it to its end. Both runs must end with exit code 0 and the
    /// same output.
    /// </summary>
    public static void RunDisturbedBesideUndisturbed(string program, IReadOnlyList<string> arguments, Action<ChildProcess, string> disturb)
    {
        using var dir = new TempDirectory();
        using var reference = ChildProcess.StartToFile(program, arguments, dir.File("expected"));
        using var child = ChildProcess.StartToFile(program, arguments, dir.File("out"));
        disturb(child, dir.File("out"));
        Assert.Equal(new ChildExit(0, 0), reference.WaitForExitWhileItRuns(Patience));
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }

    /// <summary>The second run is checkpointed (and killed) once it has printed <paramref name="afterLines"/> lines and
    /// runs at least <paramref name="threads"/> threads, then restored.</summary>
    public static void KillThenRestore(string program, IReadOnlyList<string> arguments, int afterLines, int threads) =>
        RunDisturbedBesideUndisturbed(program, arguments, (child, output) =>
        {
            Poll.UntilLines(output, afterLines, Patience);
            UntilThreads(child.Pid, threads);
            var restoredExit = CheckpointKillAndRestoreEndingWith(child, Patience);
            // The program says on stderr (into the same file) which of its checks failed: show it with the exit.
            Assert.True(restoredExit == new ExitStatus(0, 0), $"restored copy {restoredExit}; it printed:\n{File.ReadAllText(output)}");
        });

    /// <summary>Checkpoints <paramref name="child"/> with <see cref="AfterDump.Kill"/>, restores it and waits (at most
    /// <paramref name="patience"/>) for the restored copy to exit with code 0. <paramref name="around"/>, if given, is
    /// called between the kill and the restore, and what it returns once the copy runs, before it is waited for.</summary>
    public static void CheckpointKillAndRestore(ChildProcess child, TimeSpan patience, Func<ProcessImage, Action<RestoredProcess>>? around = null) =>
        Assert.Equal(new ExitStatus(0, 0), CheckpointKillAndRestoreEndingWith(child, patience, around));

    /// <summary>As <see cref="CheckpointKillAndRestore"/>, returning how the restored copy ended.</summary>
    public static ExitStatus CheckpointKillAndRestoreEndingWith(ChildProcess child, TimeSpan patience, Func<ProcessImage, Action<RestoredProcess>>? around = null)
    {
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        Assert.Equal(new ChildExit(0, 9), child.WaitForExit(Patience));
        var running = around?.Invoke(image.Metadata);
        var restored = engine.Restore(image, new RestoreOptions());
        running?.Invoke(restored);
        return engine.WaitForExitWithin(restored, patience);
    }

    /// <summary>Checkpoints <paramref name="pid"/> with <see cref="AfterDump.Resume"/> and returns the image.</summary>
    public static InMemoryImage CheckpointAndResume(this CheckpointEngine engine, int pid)
    {
        var image = new InMemoryImage();
        engine.Checkpoint(pid, image, new DumpOptions(AfterDump.Resume));
        Assert.True(image.Completed);
        return image;
    }

    /// <summary>The thread ids of <paramref name="pid"/> with each one's name (comm), sorted by id.</summary>
    public static List<(int Tid, string Name)> NamedThreads(int pid) =>
        [.. ProcFs.ReadTasks(pid).Order().Select(tid => (tid, File.ReadAllText($"/proc/{pid}/task/{tid}/comm").TrimEnd('\n')))];
}
