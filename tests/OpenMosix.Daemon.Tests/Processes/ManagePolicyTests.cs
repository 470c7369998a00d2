using OpenMosix.Daemon.Config;
using OpenMosix.Daemon.Processes;

namespace OpenMosix.Daemon.Tests.Processes;

public sealed class ManagePolicyTests
{
    private static uint? Users(string name) => name switch { "alice" => 1001, "nobody" => 65534, "root" => 0, _ => null };

    private static ManagePolicy Policy(string[]? users = null, string[]? cgroups = null, string[]? programs = null) =>
        new(users ?? [], cgroups ?? [], programs ?? [], Users);

    private static IReadOnlyList<string> NoCgroups() => throw new InvalidOperationException("cgroups read although no cgroup rule decides");

    [Fact]
    public void A_named_user_has_every_process_managed_and_others_not()
    {
        var policy = Policy(users: ["alice", "2002"]);
        Assert.True(policy.Matches(1001, "/bin/x", NoCgroups));
        Assert.True(policy.Matches(2002, null, NoCgroups));
        Assert.False(policy.Matches(1003, "/bin/x", NoCgroups));
    }

    [Theory]
    [InlineData(1000u, true)]
    [InlineData(65533u, true)]
    [InlineData(0u, false)]
    [InlineData(999u, false)]
    [InlineData(65534u, false)]
    public void A_star_names_every_regular_user_but_not_root_system_users_or_nobody(uint uid, bool managed)
    {
        Assert.Equal(managed, Policy(users: ["*"]).Matches(uid, "/bin/x", NoCgroups));
    }

    [Fact]
    public void Root_and_nobody_are_managed_when_named()
    {
        var policy = Policy(users: ["*", "root", "nobody"]);
        Assert.True(policy.Matches(0, "/bin/x", NoCgroups));
        Assert.True(policy.Matches(65534, "/bin/x", NoCgroups));
    }

    [Theory]
    [InlineData("/opt/solver/*", "/opt/solver/bin/run", true)]
    [InlineData("*/spinner", "/work/tests/spinner", true)]
    [InlineData("/usr/bin/python3.1?", "/usr/bin/python3.11", true)]
    [InlineData("/usr/bin/python3", "/usr/bin/python3.11", false)]
    [InlineData("/opt/solver/*", "/opt/other/run", false)]
    public void Program_patterns_match_the_whole_path_with_wildcards(string pattern, string program, bool managed)
    {
        Assert.Equal(managed, Policy(programs: [pattern]).Matches(1001, program, NoCgroups));
    }

    [Theory]
    [InlineData("user.slice", "/user.slice/user-1001.slice/session-3.scope", true)]
    [InlineData("batch.service", "/system.slice/batch.service", true)]
    [InlineData("/batch", "/batch/job-7", true)]
    [InlineData("/batch", "/batch", true)]
    [InlineData("/batch", "/batchy/job", false)]
    [InlineData("user", "/user.slice/x", false)]
    public void Cgroup_rules_match_a_path_prefix_or_a_whole_segment(string rule, string path, bool managed)
    {
        Assert.Equal(managed, Policy(cgroups: [rule]).Matches(1001, "/bin/x", () => ["/", path]));
    }

    [Fact]
    public void An_unknown_user_name_is_refused_when_the_policy_is_made()
    {
        var e = Assert.Throws<ArgumentException>(() => Policy(users: ["mallory"]));
        Assert.StartsWith("no such user 'mallory'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_manage_section_of_omd_toml_is_read_as_lists()
    {
        var config = OmdConfigLoader.Parse("[manage]\nusers = [\"alice\", \"*\"]\ncgroups = [\"user.slice\"]\nprograms = [\"/opt/*\"]\n", "omd.toml");
        Assert.Equal(["alice", "*"], config.ManageUsers);
        Assert.Equal(["user.slice"], config.ManageCgroups);
        Assert.Equal(["/opt/*"], config.ManagePrograms);
        Assert.Empty(OmdConfigLoader.Parse("", "omd.toml").ManageUsers);
    }

    [Theory]
    [InlineData("[manage]\nusers = \"alice\"\n")]
    [InlineData("[manage]\nprograms = [\"\"]\n")]
    [InlineData("[manage]\ncgroups = [1]\n")]
    public void A_manage_list_that_is_not_an_array_of_names_is_a_one_line_error(string toml)
    {
        var e = Assert.Throws<ConfigException>(() => OmdConfigLoader.Parse(toml, "omd.toml"));
        Assert.Contains("must be an array of non-empty strings", e.Message, StringComparison.Ordinal);
    }
}
