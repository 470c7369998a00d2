using System.Diagnostics;
using System.Globalization;
using OpenMosix.Cluster.Map;
using OpenMosix.Lab.Tests.Support;

namespace OpenMosix.Lab.Tests;

public sealed class FourNodeLabTests(FourNodeLab fixture) : IClassFixture<FourNodeLab>
{
    private TestLab Lab => fixture.Lab;

    [Fact]
    public void Every_node_reaches_the_next_node_by_ping()
    {
        for (var node = 1; node <= 4; node++)
        {
            var target = Lab.Address(node % 4 + 1);
            var ping = Lab.Exec(node, "ping", "-c1", "-W1", target);
            Assert.True(ping.ExitCode == 0, ping.ToString());
            Assert.Contains($"from {target}", ping.Stdout);
        }
    }

    [Fact]
    public void A_command_in_node_2_sees_its_address_its_daemon_directory_and_its_cgroups()
    {
        var probe = $"probe-{Guid.NewGuid():N}";
        var result = Lab.Exec(2, "sh", "-c", $"ip -o -4 addr show dev eth0; cat /proc/self/cgroup; echo inside > /run/openmosix/{probe}").Succeeded();

        Assert.Contains($"inet {Lab.Address(2)}/24", result.Stdout);
        var cgroups = result.Stdout.Split('\n').Select(l => l.Split(':', 3)).Where(f => f.Length == 3).ToDictionary(f => f[1], f => f[2]);
        Assert.Equal($"/omlab-{Lab.Name}/n2", cgroups["cpu"]);
        Assert.Equal($"/omlab-{Lab.Name}/n2", cgroups["memory"]);
        // /run/openmosix in the node is the host's /run/omlab/LAB/n2/run, where the host reaches the node's daemon socket.
        Assert.Equal("inside\n", File.ReadAllText($"/run/omlab/{Lab.Name}/n2/run/{probe}"));
        Assert.False(File.Exists($"/run/openmosix/{probe}"), "the node's /run/openmosix leaked into the host's");
    }

    [Theory]
    [InlineData("exit 0", 0)]
    [InlineData("exit 42", 42)]
    [InlineData("kill -TERM $$", 128 + 15)]
    public void The_exit_status_of_lab_exec_is_the_commands(string script, int expected)
    {
        Assert.Equal(expected, Lab.Exec(3, "sh", "-c", script).ExitCode);
    }

    [Fact]
    public void The_command_keeps_the_process_id_of_lab_exec()
    {
        var info = new ProcessStartInfo(Om.Path, ["lab", "exec", "--name", Lab.Name, "1", "--", "sh", "-c", "echo $$"])
        {
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(info)!;
        var printed = process.StandardOutput.ReadToEnd().Trim();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(process.Id.ToString(CultureInfo.InvariantCulture), printed);
    }

    [Fact]
    public void Each_node_cgroup_has_its_cpu_quota_and_memory_limit()
    {
        string Read(string controller, int node, string file) =>
            File.ReadAllText($"/sys/fs/cgroup/{controller}/omlab-{Lab.Name}/n{node}/{file}").Trim();

        Assert.Equal("100000", Read("cpu", 1, "cpu.cfs_period_us"));
        Assert.Equal("50000", Read("cpu", 1, "cpu.cfs_quota_us"));
        Assert.Equal("100000", Read("cpu", 4, "cpu.cfs_quota_us"));
        Assert.Equal($"{256L << 20}", Read("memory", 2, "memory.limit_in_bytes"));
        Assert.Equal($"{512L << 20}", Read("memory", 3, "memory.limit_in_bytes"));
        Assert.Equal($"{1L << 30}", Read("memory", 4, "memory.limit_in_bytes"));
    }

    [Fact]
    public void Status_reports_every_node_with_its_namespace_and_limits()
    {
        var status = Lab.ReadStatus();
        Assert.Equal(Lab.Name, status.Name);
        Assert.Equal([1, 2, 3, 4], status.Nodes.Select(n => n.Id));
        Assert.All(status.Nodes, n => Assert.True(n.NetnsPresent));
        Assert.All(status.Nodes, n => Assert.Null(n.DaemonPid));
        Assert.Equal([0.5, 0.5, 0.5, 1.0], status.Nodes.Select(n => n.Cpus!.Value));
        Assert.Equal(1L << 30, status.Nodes[3].MemoryLimitBytes);
        var subnet = status.Subnet.Split('.')[2];
        Assert.Equal($"10.77.{subnet}.3", status.Nodes[2].Address);

        var text = Om.Run("lab", "status", "--name", Lab.Name).Succeeded().Stdout;
        Assert.Contains($"10.77.{subnet}.4", text);
        Assert.Contains("1G", text);
    }

    [Fact]
    public void The_lab_writes_a_valid_map_a_private_key_and_a_config_per_node()
    {
        var root = $"/run/omlab/{Lab.Name}";
        var map = ClusterMap.Load($"{root}/cluster.map");
        Assert.Equal(4, map.Count);
        Assert.True(map.TryGetNode(4, out var node4));
        Assert.Equal(Lab.Address(4), node4.Address.ToString());

        Assert.Equal(32, new FileInfo($"{root}/cluster.key").Length);
        Assert.Equal(Convert.ToUInt32("600", 8), OpenMosix.Linux.FileStatus.Of($"{root}/cluster.key").Mode & Convert.ToUInt32("777", 8));

        var config = File.ReadAllText($"{root}/n3/omd.toml");
        Assert.Contains("id = 3\n", config);
        Assert.Contains($"address = \"{Lab.Address(3)}\"\n", config);
        Assert.Contains($"map = \"{root}/cluster.map\"\n", config);
        Assert.Contains($"key = \"{root}/cluster.key\"\n", config);
        Assert.Contains("socket = \"/run/openmosix/omd.sock\"\n", config);
        Assert.Contains("dead_after_ms = 9000\n", config);
    }
}
