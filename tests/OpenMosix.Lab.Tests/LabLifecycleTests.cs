using System.Diagnostics;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

public sealed class LabLifecycleTests
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Down_leaves_no_namespace_link_cgroup_mount_or_process_behind_and_a_second_down_finds_nothing()
    {
        using var lab = new TestLab(2);
        var layout = lab.Layout;
        var inNode = NodeProcessLauncher.Start(layout, 1, Om.Path, ["sleep", "600"], layout.NodeDaemonLog(1));
        Poll.Until(() => LabInspector.IsInNode(layout, 1, inNode), ProcessTimeout, "the sleeper to enter node 1");
        // Entered with `ip netns exec`, so in the node's network but in none of its cgroups: down must find it too.
        using var netnsOnly = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", $"{lab.Name}-2", "sleep", "600"]))!;
        try
        {
            var netnsFile = layout.NetnsFile(2);
            Poll.Until(() => HostProbe.NamespaceOf(netnsOnly.Id, "net") == HostProbe.NamespaceOfFile(netnsFile), ProcessTimeout,
                "ip netns exec to enter node 2");

            var down = lab.Down().Succeeded();

            Assert.Contains("removed", down.Stdout);
            Assert.Equal(Signals.SIGKILL, Children.Reap(inNode, ProcessTimeout).TermSignal);
            Assert.True(netnsOnly.WaitForExit(ProcessTimeout), "the process in node 2's network namespace survived down");
            HostProbe.AssertNothingLeft(lab.Name);
        }
        finally
        {
            // Only reached alive when down failed to kill them; the test must not leak them either way.
            if (!netnsOnly.HasExited) netnsOnly.Kill();
            Children.KillIfRunning(inNode);
        }
        var again = lab.Down().Succeeded();
        Assert.Contains("nothing to remove", again.Stdout);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("corrupt")]
    public void Down_after_a_crash_cleans_everything_without_the_state_file(string stateFile)
    {
        using var lab = new TestLab(3);
        var layout = lab.Layout;
        using var sleeper = Process.Start(new ProcessStartInfo(Om.Path, ["lab", "exec", "--name", lab.Name, "2", "--", "sleep", "600"]))!;
        Poll.Until(() => LabInspector.IsInNode(layout, 2, sleeper.Id), ProcessTimeout, "the sleeper to enter node 2");
        if (stateFile == "missing") File.Delete(layout.StateFile);
        else File.WriteAllText(layout.StateFile, "{\"name\": \"half a fi");

        try
        {
            lab.Down().Succeeded();

            Assert.True(sleeper.WaitForExit(ProcessTimeout), "the process left in node 2 survived down");
            HostProbe.AssertNothingLeft(lab.Name);
        }
        finally
        {
            if (!sleeper.HasExited) sleeper.Kill();
        }
    }

    [Fact]
    public void Two_labs_coexist_on_separate_subnets_and_removing_one_leaves_the_other_working()
    {
        using var first = new TestLab(2);
        using var second = new TestLab(2);

        Assert.NotEqual(first.Status.Subnet, second.Status.Subnet);
        first.Exec(1, "ping", "-c1", "-W1", first.Address(2)).Succeeded();
        second.Exec(1, "ping", "-c1", "-W1", second.Address(2)).Succeeded();
        Assert.NotEqual(0, first.Exec(1, "ping", "-c1", "-W1", second.Address(2)).ExitCode);

        first.Down().Succeeded();

        HostProbe.AssertNothingLeft(first.Name);
        second.Exec(2, "ping", "-c1", "-W1", second.Address(1)).Succeeded();
        Assert.Equal(2, HostProbe.NetworkNamespaces(second.Name).Count);
    }

    [Fact]
    public void Up_refuses_a_name_that_is_in_use_and_leaves_that_lab_alone()
    {
        using var lab = new TestLab(2);

        var again = Om.Run("lab", "up", "--name", lab.Name, "--nodes", "2", "--no-daemon");

        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.Stderr);
        Assert.Single(again.Stderr.TrimEnd().Split('\n'));
        lab.Exec(1, "ping", "-c1", "-W1", lab.Address(2)).Succeeded();
    }

    [Fact]
    public void With_discovery_the_node_configs_name_no_map_and_status_says_discovery()
    {
        using var lab = new TestLab(2, "--discovery");

        var config = File.ReadAllText(lab.Layout.NodeConfigFile(1));
        // An empty map path: no map at all, not even the host's /etc/openmosix.map.
        Assert.Contains("map = \"\"\n", config);
        Assert.Contains($"key = \"{lab.Layout.KeyFile}\"", config);
        Assert.True(lab.Status.Discovery);
    }

    [Theory]
    [InlineData("lab up --nodes 3 --cpus 0.5,0.5 --no-daemon --name NAME", "--cpus has 2 values for 3 nodes")]
    [InlineData("lab up --nodes 2 --mem 1X --no-daemon --name NAME", "--mem: '1X'")]
    [InlineData("lab up --nodes 0 --no-daemon --name NAME", "--nodes must be between 1 and 253")]
    [InlineData("lab up --nodes 2 --no-daemon --name Not_A_Name", "lab name 'Not_A_Name' is not valid")]
    [InlineData("lab exec --name NAME 1 -- true", "no lab named")]
    [InlineData("lab status --name NAME", "no lab named")]
    public void Bad_input_gets_a_one_line_error(string commandLine, string expected)
    {
        var name = TestLab.UniqueName();
        var result = Om.Run(commandLine.Replace("NAME", name, StringComparison.Ordinal).Split(' '));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, result.Stderr);
        Assert.Single(result.Stderr.TrimEnd().Split('\n'));
        HostProbe.AssertNothingLeft(name);
    }
}
