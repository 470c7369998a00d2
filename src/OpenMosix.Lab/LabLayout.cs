namespace OpenMosix.Lab;

/// <summary>Where a lab keeps its files on the host, and the paths each node sees.</summary>
public sealed class LabLayout(LabName name)
{
    public const string LabsRoot = "/run/omlab";
    public const string NetnsRoot = "/run/netns";
    public const string CgroupCpuRoot = "/sys/fs/cgroup/cpu";
    public const string CgroupMemoryRoot = "/sys/fs/cgroup/memory";
    /// <summary>cpuacct: where omd reads how much CPU time its node used (its utilisation).</summary>
    public const string CgroupCpuacctRoot = "/sys/fs/cgroup/cpuacct";
    /// <summary>Inside a node: the directory of the daemon's socket, bound to the node's run directory on the host.</summary>
    public const string NodeRunDirectory = "/run/openmosix";
    public const string SocketFileName = "omd.sock";

    public LabName Name { get; } = name;
    public string Root => Path.Combine(LabsRoot, Name.Value);
    public string StateFile => Path.Combine(Root, "state.json");
    public string MapFile => Path.Combine(Root, "cluster.map");
    public string KeyFile => Path.Combine(Root, "cluster.key");
    /// <summary>The lab's own cluster CA (ca.key, ca.crt): each lab trusts only itself.</summary>
    public string CaDirectory => Path.Combine(Root, "ca");
    /// <summary>A private bind mount of its own that holds the nodes' mount namespace files (nsfs cannot be bound onto a shared mount).</summary>
    public string MountNamespaceDirectory => Path.Combine(Root, "ns");
    public string MountNamespaceFile(int node) => Path.Combine(MountNamespaceDirectory, $"n{node}.mnt");
    public string NetnsFile(int node) => Path.Combine(NetnsRoot, Name.NetworkNamespace(node));

    public string NodeDirectory(int node) => Path.Combine(Root, $"n{node}");
    public string NodeHostRunDirectory(int node) => Path.Combine(NodeDirectory(node), "run");
    public string NodeHostSocket(int node) => Path.Combine(NodeHostRunDirectory(node), SocketFileName);
    public string NodeConfigFile(int node) => Path.Combine(NodeDirectory(node), "omd.toml");
    /// <summary>A node's paths.tls_dir: its node.key, node.crt for its id and lab address, and the lab's ca.crt.</summary>
    public string NodeTlsDirectory(int node) => Path.Combine(NodeDirectory(node), "tls");
    public string NodeDaemonLog(int node) => Path.Combine(NodeDirectory(node), "omd.log");
    public string NodeDiscoverLog(int node) => Path.Combine(NodeDirectory(node), "discover.log");

    public string CpuCgroupGroup => Path.Combine(CgroupCpuRoot, Name.CgroupGroup);
    public string MemoryCgroupGroup => Path.Combine(CgroupMemoryRoot, Name.CgroupGroup);
    public string CpuacctCgroupGroup => Path.Combine(CgroupCpuacctRoot, Name.CgroupGroup);
    public string CpuCgroup(int node) => Path.Combine(CpuCgroupGroup, $"n{node}");
    public string MemoryCgroup(int node) => Path.Combine(MemoryCgroupGroup, $"n{node}");
    public string CpuacctCgroup(int node) => Path.Combine(CpuacctCgroupGroup, $"n{node}");
}
