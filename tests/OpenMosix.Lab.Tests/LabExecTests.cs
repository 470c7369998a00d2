using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>`om lab exec` runs the command where the caller stands, as docs/lab.md promises.</summary>
public sealed class LabExecTests
{
    [Fact]
    public void The_command_runs_in_the_callers_working_directory()
    {
        using var lab = new TestLab(1);
        using var dir = new TempDirectory();

        var pwd = Om.RunIn(dir.Path, "lab", "exec", "--name", lab.Name, "1", "--", "pwd").Succeeded();

        Assert.Equal(dir.Path + "\n", pwd.Stdout);
    }

    [Fact]
    public void A_working_directory_the_node_does_not_have_is_refused_in_one_line()
    {
        using var lab = new TestLab(1);
        using var dir = new TempDirectory();
        // Mounted on the host after the node's mount namespace was made (private propagation): the node sees only
        // the empty mount point, not the directory made inside the new mount.
        Must("mount", "-t", "tmpfs", "omtest", dir.Path);
        try
        {
            var inside = Directory.CreateDirectory(Path.Join(dir.Path, "host-only")).FullName;

            var run = Om.RunIn(inside, "lab", "exec", "--name", lab.Name, "1", "--", "pwd");

            Assert.NotEqual(0, run.ExitCode);
            Assert.Equal("", run.Stdout);
            var line = Assert.Single(run.Stderr.TrimEnd('\n').Split('\n'));
            Assert.Equal($"om: lab exec: the current directory {inside} does not exist in node 1; cd to one that does", line);
        }
        finally
        {
            Must("umount", dir.Path);
        }
    }

    private static void Must(string tool, params string[] arguments)
    {
        var run = CommandRun.Run(tool, arguments);
        Assert.True(run.ExitCode == 0, $"{tool} {string.Join(' ', arguments)}: {run.Stderr}");
    }
}
