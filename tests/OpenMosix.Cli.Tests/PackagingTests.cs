using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// packaging/install.sh staged under a DESTDIR, as a package build does: everything lands below DESTDIR, every
/// classic name om reports is linked and has a man page, and --uninstall takes back exactly what was installed.
/// PREFIX and ETC name directories that exist nowhere, so a file written past DESTDIR would show up there.
/// </summary>
public sealed class PackagingTests : IDisposable
{
    private readonly TempDirectory _dir = new("om-packaging");
    private readonly string _prefix = $"/opt/om-packaging-test-{Guid.NewGuid():N}";
    private readonly string _etc = $"/etc/om-packaging-test-{Guid.NewGuid():N}";

    public void Dispose()
    {
        _dir.Dispose();
        foreach (var stray in new[] { _prefix, _etc }.Where(Directory.Exists)) Directory.Delete(stray, recursive: true);
    }

    private string Dest => _dir.Subdirectory("dest");

    [Fact]
    public void Staging_installs_every_classic_name_the_units_the_init_script_the_man_pages_and_completions_under_DESTDIR_only()
    {
        var install = Install();

        Assert.True(install.ExitCode == 0, install.ToString());
        Assert.False(Directory.Exists(_prefix) || Directory.Exists(_etc), "install.sh wrote outside DESTDIR");
        Assert.True(File.Exists(Staged(_prefix, "bin", "om")));
        // The libsodium om was published with, where om looks for it (../lib/openmosix): AEGIS records on node links.
        Assert.Equal(File.ReadAllBytes(Path.Join(Path.GetDirectoryName(TestPaths.Om), "libsodium.so")),
            File.ReadAllBytes(Staged(_prefix, "lib", "openmosix", "libsodium.so")));
        Assert.All(OmCommandTree.ClassicNames().Keys, name =>
        {
            Assert.Equal("om", new FileInfo(Staged(_prefix, "bin", name)).LinkTarget);
            Assert.Single(Directory.GetFiles(Dest + _prefix + "/share/man", $"{name}.?", SearchOption.AllDirectories));
            Assert.True(File.Exists(Staged(_prefix, "share", "bash-completion", "completions", name)), $"no bash completion for {name}");
            Assert.True(File.Exists(Staged(_prefix, "share", "fish", "vendor_completions.d", $"{name}.fish")), $"no fish completion for {name}");
        });
        Assert.All(ManPage.Files(), page =>
            Assert.True(File.Exists(Staged(_prefix, "share", "man", $"man{page[^1]}", Path.GetFileName(page))), $"{page} is not installed"));
        Assert.True(File.Exists(Staged(_prefix, "share", "zsh", "site-functions", "_om")));
        foreach (var unit in new[] { "omd.service", "omdiscd.service" })
            Assert.Contains($"ExecStart={_prefix}/bin/", File.ReadAllText(Staged(_prefix, "lib", "systemd", "system", unit)), StringComparison.Ordinal);
        Assert.Contains($"BIN={_prefix}/bin", File.ReadAllText(Staged(_etc, "init.d", "openmosix")), StringComparison.Ordinal);
        Assert.True(File.Exists(Staged(_etc, "openmosix", "omd.toml")));
    }

    [Fact]
    public void Uninstall_with_the_same_DESTDIR_removes_all_it_installed_and_keeps_the_configuration_and_key()
    {
        Assert.Equal(0, Install().ExitCode);
        File.WriteAllText(Staged(_etc, "openmosix", "cluster.key"), "a key of the administrator's own");
        Assert.Equal(0, Install().ExitCode); // a second install (an upgrade) must not forget what the first made

        var uninstall = Install("--uninstall");

        Assert.True(uninstall.ExitCode == 0, uninstall.ToString());
        var left = Directory.EnumerateFileSystemEntries(Dest, "*", SearchOption.AllDirectories)
            .Select(p => p[Dest.Length..]).Order(StringComparer.Ordinal);
        Assert.Equal(["/etc", _etc, $"{_etc}/openmosix", $"{_etc}/openmosix/cluster.key", $"{_etc}/openmosix/omd.toml"], left);
    }

    [Fact]
    public void Uninstall_where_nothing_was_installed_says_so_and_fails()
    {
        var uninstall = Install("--uninstall");

        Assert.Equal(1, uninstall.ExitCode);
        Assert.StartsWith("install.sh: nothing to uninstall", uninstall.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_deb_makes_a_package_holding_om_its_classic_names_and_the_man_pages()
    {
        Assert.SkipUnless(File.Exists("/usr/bin/dpkg-deb"), "dpkg-deb is not installed, so no Debian package can be built here");

        // dpkg-deb's xz of om takes seconds of CPU that a machine at load 100 spreads over more than three minutes:
        // waited for while it (or a descendant) computes, not for a fixed time.
        var log = Path.Join(_dir.Path, "build-deb.out");
        using var build = ChildProcess.StartToFile("/usr/bin/env",
            [$"OM_BIN={TestPaths.Om}", $"DEB_DIR={_dir.Path}", Path.Join(TestPrograms.RepositoryRoot, "packaging", "build-deb.sh")], log);
        var exit = build.WaitForExitWhileItRuns(TimeSpan.FromSeconds(60));
        var output = File.ReadAllText(log);
        Assert.True(exit == new ChildExit(0, 0), $"build-deb.sh ended with {exit}: {output}");
        var contents = CommandRun.Run("dpkg-deb", ["-c", output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]]);

        Assert.Contains(" ./usr/bin/om\n", contents.Stdout, StringComparison.Ordinal);
        Assert.Contains(" ./usr/bin/mosrun -> om\n", contents.Stdout, StringComparison.Ordinal);
        Assert.Contains(" ./usr/lib/openmosix/libsodium.so\n", contents.Stdout, StringComparison.Ordinal);
        Assert.All(ManPage.Files(), page =>
            Assert.Contains($" ./usr/share/man/man{page[^1]}/{Path.GetFileName(page)}\n", contents.Stdout, StringComparison.Ordinal));
        Assert.Contains(" ./etc/init.d/openmosix\n", contents.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("installed-files", contents.Stdout, StringComparison.Ordinal);
    }

    private CommandResult Install(params string[] arguments) =>
        CommandRun.Run(Path.Join(TestPrograms.RepositoryRoot, "packaging", "install.sh"), arguments, new Dictionary<string, string>
        {
            ["DESTDIR"] = Dest, ["PREFIX"] = _prefix, ["ETC"] = _etc, ["OM_BIN"] = TestPaths.Om,
        });

    private string Staged(string root, params string[] parts) => Path.Join([Dest + root, .. parts]);
}
