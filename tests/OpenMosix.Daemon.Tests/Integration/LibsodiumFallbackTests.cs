using System.Net;
using OpenMosix.Cluster.Transport;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>
/// om finds the libsodium it ships beside itself or in ../lib/openmosix (where install.sh and the package put it). A
/// node where it is missing, is not a library, or is a libsodium of another version (the system's 1.0.18 has no AEGIS)
/// still runs: omd warns once and its links carry their records under AES-128-GCM. A copy of om in a directory of its
/// own stands for each install.
/// </summary>
public sealed class LibsodiumFallbackTests
{
    private const string SystemLibsodium = "/lib/x86_64-linux-gnu/libsodium.so.23";

    [Theory]
    [InlineData("missing")]
    [InlineData("not a library")]
    [InlineData("another version")]
    public async Task Without_a_working_libsodium_omd_warns_once_and_links_under_AES_128_GCM(string how)
    {
        using var install = new TempDirectory("om-sodium");
        var om = Install(install, "bin");
        var beside = Path.Join(install.Path, "bin", "libsodium.so");
        switch (how)
        {
            case "not a library":
                File.WriteAllText(beside, "this is not an ELF shared object\n");
                break;
            case "another version":
                Assert.SkipUnless(File.Exists(SystemLibsodium), $"no {SystemLibsodium} here to stand for a libsodium of another version");
                File.Copy(SystemLibsodium, beside);
                break;
        }

        var (log, link, getlink) = await RunAndLink(om);

        Assert.Matches(@"(?m)^link\.record_ciphers +\[""aes-128-gcm""\]$", getlink);
        var warning = Assert.Single(log.Split('\n'), l => l.Contains("node link records offered under", StringComparison.Ordinal));
        Assert.Matches(@" warn: .*node link records offered under aes-128-gcm \(.+: no aegis-128l, aegis-256\)$", warning);
        Assert.Single(log.Split('\n'), l => l.Contains(" warn: ", StringComparison.Ordinal) && l.Contains("sodium", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("Unhandled exception", log, StringComparison.Ordinal);
        Assert.Equal(RecordCipher.Aes128Gcm, link);
    }

    [Fact]
    public async Task Installed_under_a_prefix_om_finds_its_libsodium_in_lib_openmosix_and_links_under_AEGIS_128L()
    {
        using var install = new TempDirectory("om-sodium");
        var om = Install(install, "bin");
        Directory.CreateDirectory(Path.Join(install.Path, "lib", "openmosix"));
        File.Copy(Path.Join(Path.GetDirectoryName(OmBinary.Path), "libsodium.so"), Path.Join(install.Path, "lib", "openmosix", "libsodium.so"));

        var (log, link, getlink) = await RunAndLink(om);

        Assert.Matches(@"(?m)^link\.record_ciphers +\[""aegis-128l"", ""aegis-256"", ""aes-128-gcm""\]$", getlink);
        Assert.Contains("info: ", Assert.Single(log.Split('\n'), l => l.EndsWith("node link records offered under aegis-128l, aegis-256, aes-128-gcm", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal(RecordCipher.Aegis128L, link);
    }

    [Fact]
    public void A_cipher_list_this_node_cannot_run_at_all_stops_omd_with_one_line_saying_why()
    {
        using var install = new TempDirectory("om-sodium");
        var om = Install(install, "bin");
        using var cluster = new LoopbackCluster(2);
        File.AppendAllText(cluster.ConfigPath(1), "\n[link]\nrecord_ciphers = [\"aegis-256\"]\n");

        using var daemon = ChildProcess.StartToFile(om, ["daemon", "--config", cluster.ConfigPath(1)], cluster.LogPath(1));

        Assert.NotEqual(0, daemon.WaitForExit(TimeSpan.FromSeconds(60)).Code);
        var log = cluster.Log(1);
        Assert.Single(log.Split('\n'), l => l.Contains("link.record_ciphers: this node can run none of aegis-256 (", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", log, StringComparison.Ordinal);
    }

    /// <summary>om alone, copied into DIR/<paramref name="bin"/>.</summary>
    private static string Install(TempDirectory install, string bin)
    {
        var om = Path.Join(install.Subdirectory(bin), "om");
        File.Copy(OmBinary.Path, om);
        File.SetUnixFileMode(om, (UnixFileMode)0b111_101_101);
        return om;
    }

    /// <summary>Runs <paramref name="om"/> as node 1's omd; node 2 (this test, with every cipher) links to it. Its log,
    /// the link's cipher and what `mosctl getlink` printed.</summary>
    private static async Task<(string Log, RecordCipher Cipher, string Getlink)> RunAndLink(string om)
    {
        using var cluster = new LoopbackCluster(2);
        using var daemon = ChildProcess.StartToFile(om, ["daemon", "--config", cluster.ConfigPath(1)], cluster.LogPath(1));
        Poll.Until(() => daemon.HasExited || cluster.Om(1, "mosctl", "getlink").ExitCode == 0, TimeSpan.FromSeconds(30),
            $"omd to answer on its socket (log: {cluster.Log(1)})");
        Assert.False(daemon.HasExited, $"omd ended: {cluster.Log(1)}");
        await using var link = await NodeLink.ConnectAsync(new IPEndPoint(cluster.Address(1), 5725), 2, 1, cluster.Links(2),
            TestContext.Current.CancellationToken);
        var cipher = link.Cipher;
        var getlink = cluster.Om(1, "mosctl", "getlink").Stdout;
        daemon.Kill();
        daemon.WaitForExit(TimeSpan.FromSeconds(30));
        return (cluster.Log(1), cipher, getlink);
    }
}
