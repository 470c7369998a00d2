using OpenMosix.Cli.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// Image files hold a process's memory: om checkpoint creates them readable by their owner only, and a normal user
/// checkpoints and restores their own processes without root (and only their own).
/// </summary>
public sealed class UserImageTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const UnixFileMode WorldReadable = (UnixFileMode)0b110_100_100;

    [Fact]
    public Task A_normal_user_checkpoints_and_restores_their_own_process_which_finishes_as_if_never_stopped()
    {
        int originalPid = 0, restoredPid = 0;
        var sleeper = TestPaths.Program("sleeper");
        return CheckpointFlow.RunAsync(new Scenario
        {
            Key = "sh -c exec sleeper 40 50 > out.txt",
            Command = dir => new ProcessSpec("/bin/sh", ["-c", "exec \"$0\" \"$@\" > out.txt", sleeper, "40", "50"], dir),
            Ready = _ => true,
            ReadyDescription = "",
            MaxExtraDelay = TimeSpan.FromMilliseconds(800),
            CollectFiles = dir => CheckpointFlow.ReadFiles(dir, "out.txt"),
            AsTestUser = true,
            AfterStart = original =>
            {
                originalPid = original.Pid;
                return Task.CompletedTask;
            },
            AfterRestore = async restore =>
            {
                restore.CloseStdin();
                await Wait.UntilAsync(() => (restoredPid = RestoredBelow(restore.Pid)) != 0 || restore.HasExited, Bound,
                    "the restored sleeper to run");
            },
            // A user's om cannot ask for the old PID (ns_last_pid needs CAP_CHECKPOINT_RESTORE): it says so once,
            // unless the kernel handed the old PID out again by chance (then there is nothing to explain).
            CheckRestoreStderr = stderr =>
            {
                Assert.NotEqual(0, restoredPid);
                if (restoredPid == originalPid)
                {
                    Assert.Empty(stderr);
                    return;
                }
                var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                // Another process may hold the old PID by now: then that is the reason given.
                Assert.Matches($@"^om: PID {originalPid} (can only be asked for by root \(CAP_CHECKPOINT_RESTORE\)|is taken here); the process runs as PID {restoredPid}$", line);
            },
        });
    }

    /// <summary>The one process at the bottom of the tree below <paramref name="ancestor"/> (om restore, or the
    /// wrapper that runs it as the test user): the restored process (its stub until restored, under the same PID;
    /// its exe and command line stay the stub's, as PR_SET_MM needs CAP_SYS_RESOURCE), or 0.</summary>
    private static int RestoredBelow(int ancestor)
    {
        var parents = new Dictionary<int, int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid)) continue;
            try
            {
                parents[pid] = OpenMosix.Linux.Proc.ProcFs.ReadStat(pid).PPid;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProcessAccessException or FormatException)
            {
                // gone meanwhile
            }
        }
        bool Below(int pid)
        {
            for (var up = parents.GetValueOrDefault(pid); up > 1; up = parents.GetValueOrDefault(up))
                if (up == ancestor) return true;
            return false;
        }
        var below = parents.Keys.Where(Below).ToList();
        return below.Where(pid => !below.Any(other => parents[other] == pid)).ToList() is [var leaf] ? leaf : 0;
    }

    [Fact]
    public async Task An_image_is_created_readable_by_its_owner_only_even_over_an_older_world_readable_file()
    {
        using var dir = new TempDirectory("om-e2e-mode");
        var image = dir.File("process.omimg");
        await WriteOlderImageAsync(image);

        await CheckpointSleeperAsync(dir.Path, image, ofTestUser: false);

        Assert.Equal("0:0 600", OwnerAndMode(image));
        Assert.Equal(["process.omimg"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Root_checkpointing_another_users_process_gives_the_image_to_that_user()
    {
        using var dir = new TempDirectory("om-e2e-owner");
        var image = dir.File("process.omimg");

        await CheckpointSleeperAsync(dir.Path, image, ofTestUser: true);

        Assert.Equal($"{TestUser.Uid}:{TestUser.Gid} 600", OwnerAndMode(image));
    }

    [Fact]
    public async Task A_normal_user_is_refused_an_image_of_another_users_process_in_one_line()
    {
        using var dir = new TempDirectory("om-e2e-foreign");
        TestUser.Own(dir.Path);
        var image = dir.File("root.omimg");
        await CheckpointSleeperAsync(dir.Path, image, ofTestUser: false);
        File.SetUnixFileMode(image, WorldReadable);

        var restore = await OmCli.RunAsync(["restore", image], dir.Path, asTestUser: true);

        Assert.Equal(1, restore.ExitCode);
        var line = Assert.Single(restore.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"image is of a process of uid 0 (gid 0, groups none) and you are uid {TestUser.Uid}", line, StringComparison.Ordinal);
        Assert.EndsWith("only root may restore a process with other credentials", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_checkpoint_that_fails_leaves_the_older_image_as_it_was_and_no_partial_file()
    {
        using var dir = new TempDirectory("om-e2e-failed");
        var image = dir.File("process.omimg");
        await WriteOlderImageAsync(image);
        using var unmovable = RunningProcess.Start(new ProcessSpec(TestPaths.Program("eng_unmovable"), ["tcp"], dir.Path));
        await unmovable.WaitForStdoutLinesAsync(1, Bound);

        var checkpoint = await OmCli.CheckpointAsync(unmovable.Pid, image, kill: false);

        Assert.True(checkpoint.ExitCode != 0, checkpoint.ToString());
        Assert.Equal("an older image", await File.ReadAllTextAsync(image, TestContext.Current.CancellationToken));
        Assert.Equal(["process.omimg"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    /// <summary>Checkpoints a running sleeper (root's or the test user's) into <paramref name="image"/>, leaving it running.</summary>
    private static async Task CheckpointSleeperAsync(string dir, string image, bool ofTestUser)
    {
        using var sleeper = RunningProcess.Start(OmCli.AsUser(CompiledProgramRestoreTests.Target(dir, "sleeper", "400", "50"), ofTestUser));
        sleeper.CloseStdin();
        await sleeper.WaitForStdoutLinesAsync(2, Bound);
        var checkpoint = await OmCli.CheckpointAsync(sleeper.Pid, image, kill: false);
        Assert.True(checkpoint.ExitCode == 0, checkpoint.ToString());
    }

    private static async Task WriteOlderImageAsync(string image)
    {
        await File.WriteAllTextAsync(image, "an older image", TestContext.Current.CancellationToken);
        File.SetUnixFileMode(image, WorldReadable);
    }

    private static string OwnerAndMode(string path)
    {
        var stat = CommandRun.Run("/usr/bin/stat", ["-c", "%u:%g %a", path]);
        Assert.True(stat.ExitCode == 0, stat.ToString());
        return stat.Stdout.Trim();
    }
}
