using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Measurement;

public sealed class CgroupV1Tests
{
    private const string ProcCgroup = "4:memory:/lab/n1\n2:cpu,cpuacct:/lab/n1\n1:name=systemd:/\n0::/\n";

    [Fact]
    public void Quota_limit_and_usage_are_read_from_the_processes_own_groups()
    {
        using var root = new TempDirectory();
        Write(root.Path, "cpu,cpuacct/lab/n1/cpu.cfs_quota_us", "50000\n");
        Write(root.Path, "cpu,cpuacct/lab/n1/cpu.cfs_period_us", "100000\n");
        Write(root.Path, "cpu,cpuacct/lab/n1/cpuacct.usage", "2500000000\n");
        Write(root.Path, "memory/lab/n1/memory.limit_in_bytes", "1073741824\n");
        Write(root.Path, "memory/lab/n1/memory.usage_in_bytes", "300000000\n");
        Write(root.Path, "memory/lab/n1/memory.stat", "cache 5\ntotal_inactive_file 100000000\n");

        var cgroup = CgroupV1.Parse(ProcCgroup, root.Path);

        Assert.Equal(0.5, cgroup.CpuLimit());
        Assert.Equal(1073741824ul, cgroup.MemoryLimit());
        Assert.Equal(200000000ul, cgroup.MemoryInUse());
        Assert.Equal(TimeSpan.FromSeconds(2.5), cgroup.CpuUsage());
        Assert.False(cgroup.IsRoot("cpu"));
        Assert.False(cgroup.IsRoot("cpuacct"));
    }

    [Fact]
    public void No_quota_and_an_unlimited_memory_group_read_as_none()
    {
        using var root = new TempDirectory();
        Write(root.Path, "cpu,cpuacct/lab/n1/cpu.cfs_quota_us", "-1\n");
        Write(root.Path, "cpu,cpuacct/lab/n1/cpu.cfs_period_us", "100000\n");
        Write(root.Path, "memory/lab/n1/memory.limit_in_bytes", "9223372036854771712\n");

        var cgroup = CgroupV1.Parse(ProcCgroup, root.Path);

        Assert.Null(cgroup.CpuLimit());
        Assert.Null(cgroup.MemoryLimit());
    }

    [Fact]
    public void A_process_in_the_root_groups_is_recognised_as_such()
    {
        using var root = new TempDirectory();
        Directory.CreateDirectory(Path.Join(root.Path, "cpu"));
        var cgroup = CgroupV1.Parse("1:cpu:/\n", root.Path);
        Assert.True(cgroup.IsRoot("cpu"));
        Assert.True(cgroup.IsRoot("memory"));
    }

    private static void Write(string root, string relative, string text)
    {
        var path = Path.Join(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
