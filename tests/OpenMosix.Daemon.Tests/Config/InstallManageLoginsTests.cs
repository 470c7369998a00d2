using OpenMosix.Daemon.Config;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Config;

/// <summary>packaging/install.sh --manage-logins, run into a scratch PREFIX and ETC (it installs artifacts/bin/om, which
/// test.sh builds first): the omd.toml it leaves is read by omd with the login-session rule, and without the flag there
/// is none (off by default).</summary>
public sealed class InstallManageLoginsTests
{
    private static CommandResult Install(TempDirectory scratch, params string[] arguments)
    {
        var script = Path.Join(TestPrograms.RepositoryRoot, "packaging", "install.sh");
        return CommandRun.Run("env", [$"PREFIX={scratch.File("usr")}", $"ETC={scratch.File("etc")}", "bash", script, .. arguments]);
    }

    private static OmdConfig Installed(TempDirectory scratch) => OmdConfigLoader.Load(scratch.File("etc/openmosix/omd.toml"));

    [Fact]
    public void A_fresh_install_manages_no_process_by_itself_unless_asked_to_manage_logins()
    {
        using var plain = new TempDirectory("om-install");
        var run = Install(plain);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(Installed(plain).ManageCgroups);

        using var logins = new TempDirectory("om-install");
        run = Install(logins, "--manage-logins");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["user.slice"], Installed(logins).ManageCgroups);
    }

    [Fact]
    public void An_existing_configuration_gains_the_rule_once_and_stays_valid()
    {
        using var scratch = new TempDirectory("om-install");
        Directory.CreateDirectory(scratch.File("etc/openmosix"));
        File.WriteAllText(scratch.File("etc/openmosix/omd.toml"), "[log]\nlevel = \"debug\"\n");
        Assert.Equal(0, Install(scratch, "--manage-logins").ExitCode);
        var again = Install(scratch, "--manage-logins");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("already sets [manage] cgroups", again.Stderr, StringComparison.Ordinal);
        var config = Installed(scratch);
        Assert.Equal("debug", config.LogLevel);
        Assert.Equal(["user.slice"], config.ManageCgroups);
    }

    [Fact]
    public void An_unknown_argument_is_refused_in_one_line()
    {
        using var scratch = new TempDirectory("om-install");
        var run = Install(scratch, "--manage-everything");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("install.sh: unknown argument --manage-everything (only --manage-logins, --uninstall)\n", run.Stderr);
    }
}
