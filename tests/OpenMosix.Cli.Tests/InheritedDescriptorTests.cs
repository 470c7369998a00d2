using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// Some machines hand every shell an inherited pipe on a high descriptor (fd 251 under one CI runner). A program the
/// demo, the test run or a bench starts to move must not inherit it: a pipe whose other end it does not hold is a
/// reason it cannot move. The scripts close such descriptors first (scripts/close-inherited-fds.sh).
/// </summary>
public sealed class InheritedDescriptorTests
{
    [Theory]
    [InlineData("source '{0}' && ls /proc/self/fd")]
    // In a subshell, whose descriptors are not its parent's ($$ names the parent): fd 7 is opened there only.
    [InlineData("( exec 7</dev/null; source '{0}' && ls /proc/self/fd )")]
    public void A_program_started_after_the_scripts_preamble_inherits_no_descriptor_above_2(string command)
    {
        var script = Path.Combine(TestPrograms.RepositoryRoot, "scripts", "close-inherited-fds.sh");
        using var dir = new TempDirectory();
        var (read, write) = Descriptors.CreatePipe();
        using (read)
        using (write)
        {
            // The child of the sourcing shell lists its own descriptors; fd 3 is ls's listing of the directory.
            using var child = ChildProcess.StartToFile("/bin/bash", ["-c", string.Format(System.Globalization.CultureInfo.InvariantCulture, command, script)], dir.File("out"),
                inherited: new Dictionary<int, Microsoft.Win32.SafeHandles.SafeFileHandle> { [251] = read, [9] = write });
            Assert.Equal(new ChildExit(0, 0), child.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        // 0-2, and 3: ls's own listing of the directory.
        Assert.Equal([0, 1, 2, 3], File.ReadAllLines(dir.File("out")).Select(int.Parse).Order());
    }

    [Fact]
    public void The_test_demo_and_bench_scripts_all_run_the_preamble()
    {
        var root = TestPrograms.RepositoryRoot;
        string[] scripts = ["test.sh", "demo.sh", "bench/balance/run.sh", "bench/checkpoint/run.sh", "bench/cluster/run.sh", "bench/migration/run.sh"];
        foreach (var script in scripts)
            Assert.Contains("close-inherited-fds.sh", File.ReadAllText(Path.Combine(root, script)), StringComparison.Ordinal);
    }
}
