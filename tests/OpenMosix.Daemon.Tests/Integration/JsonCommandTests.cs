using System.Diagnostics;
using System.Text.Json;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>`--json` on mosctl's verbs, om where, ps and setpe, against a real omd (loopback, no lab).</summary>
public sealed class JsonCommandTests
{
    [Theory]
    [InlineData("getload")]
    [InlineData("getspeed")]
    [InlineData("getmem")]
    [InlineData("getfree")]
    [InlineData("getutil")]
    [InlineData("status")]
    public void A_mosctl_query_prints_the_nodes_row_as_status_json_does(string verb)
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);

        var row = Json(cluster.Om(1, "mosctl", verb, "1", "--json"));

        Assert.Equal(1, row.GetProperty("id").GetInt32());
        Assert.Equal(cluster.Address(1).ToString(), row.GetProperty("address").GetString());
        Assert.Equal(10000, row.GetProperty("speed").GetInt64());
        Assert.True(row.GetProperty("totalMemory").GetInt64() > 0);
    }

    [Fact]
    public void Isup_whois_gettune_and_getdecay_print_json()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        var address = cluster.Address(1).ToString();

        Assert.True(Json(cluster.Om(1, "mosctl", "isup", "--json")).GetProperty("up").GetBoolean());
        foreach (var asked in new[] { Array.Empty<string>(), ["1"], [address] })
        {
            var whois = Json(cluster.Om(1, ["mosctl", "whois", .. asked, "--json"]));
            Assert.Equal((1, address), (whois.GetProperty("node").GetInt32(), whois.GetProperty("address").GetString()));
        }
        Assert.Equal(18, Json(cluster.Om(1, "mosctl", "gettune", "--json")).GetProperty("tunables").GetArrayLength());
        var decay = Json(cluster.Om(1, "mosctl", "getdecay", "--json"));
        Assert.Equal((60.0, 4.0, "fast"),
            (decay.GetProperty("slowSeconds").GetDouble(), decay.GetProperty("fastSeconds").GetDouble(), decay.GetProperty("defaultMode").GetString()));
    }

    [Fact]
    public void Mosctl_write_verbs_print_their_result_as_json()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);

        Assert.Equal(["block"], Json(cluster.Om(1, "mosctl", "block", "--json")).GetProperty("on").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(0, Json(cluster.Om(1, "mosctl", "noblock", "--json")).GetProperty("on").GetArrayLength());
        Assert.Equal(20000, Json(cluster.Om(1, "mosctl", "setspeed", "20000", "--json")).GetProperty("speed").GetInt64());
        Assert.Equal(30.0, Json(cluster.Om(1, "mosctl", "setdecay", "30", "2", "--json")).GetProperty("slowSeconds").GetDouble());
        Assert.Equal(0, Json(cluster.Om(1, "mosctl", "bring", "--json")).GetProperty("brought").GetArrayLength());
        Assert.Equal(0, Json(cluster.Om(1, "mosctl", "expel", "--json")).GetProperty("expelled").GetArrayLength());
    }

    [Fact]
    public void Where_json_prints_the_processes_row_as_ps_json_does()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        var start = new ProcessStartInfo(OmBinary.Path, ["run", "sleep", "60"]) { UseShellExecute = false };
        start.Environment["OM_SOCKET"] = cluster.SocketPath(1);
        using var managed = Process.Start(start)!;
        try
        {
            Poll.Until(() => cluster.Om(1, "ps", "--json").Stdout.Contains($"\"pid\": {managed.Id},", StringComparison.Ordinal),
                TimeSpan.FromSeconds(10), "the process to register with omd");

            var row = Json(cluster.Om(1, "where", $"{managed.Id}", "--json"));

            Assert.Equal(managed.Id, row.GetProperty("pid").GetInt32());
            Assert.Equal(1, row.GetProperty("where").GetInt32());
        }
        finally
        {
            managed.Kill();
        }
    }

    [Fact]
    public void Ps_all_lists_unmanaged_processes_too_and_adopt_and_release_change_what_they_are()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        using var sleeper = ChildProcess.Start("/bin/sleep", ["61"]);
        JsonElement RowOf(int pid) => Json(cluster.Om(1, "ps", "--all", "--json")).GetProperty("processes").EnumerateArray()
            .Single(r => r.GetProperty("pid").GetInt32() == pid);
        Poll.Until(() => ProcFs.ReadCommandLine(sleeper.Pid).Contains("61"), TimeSpan.FromSeconds(10), "sleep to run");

        var unmanaged = RowOf(sleeper.Pid);
        Assert.Equal(("unmanaged", "unmanaged", Environment.ProcessId), (unmanaged.GetProperty("state").GetString(),
            unmanaged.GetProperty("origin").GetString(), unmanaged.GetProperty("parentPid").GetInt32()));
        Assert.DoesNotContain(Json(cluster.Om(1, "ps", "--json")).GetProperty("processes").EnumerateArray(), r => r.GetProperty("pid").GetInt32() == sleeper.Pid);

        Assert.Equal(0, cluster.Om(1, "adopt", $"{sleeper.Pid}").ExitCode);
        Assert.Equal(("home", "adopted"), (RowOf(sleeper.Pid).GetProperty("state").GetString(), RowOf(sleeper.Pid).GetProperty("origin").GetString()));
        Assert.Equal(0, cluster.Om(1, "release", $"{sleeper.Pid}").ExitCode);
        Assert.Equal("unmanaged", RowOf(sleeper.Pid).GetProperty("origin").GetString());
    }

    [Fact]
    public void Setpe_prints_the_map_in_use_and_each_change_to_it_as_json()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);

        Assert.Equal([1], Json(cluster.Om(1, "setpe", "-r", "--json")).GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetInt32()));
        var loaded = Json(cluster.Om(1, "setpe", "-w", "-f", cluster.WriteMap([1, 2], cluster.MapPath + ".two"), "--json"));
        Assert.Equal([2], loaded.GetProperty("added").EnumerateArray().Select(n => n.GetInt32()));
        Assert.Equal(0, loaded.GetProperty("removed").GetArrayLength());
        var left = Json(cluster.Om(1, "setpe", "-off", "--json"));
        Assert.Equal([1, 2], left.GetProperty("removed").EnumerateArray().Select(n => n.GetInt32()).Order());
    }

    private static JsonElement Json(CommandResult run)
    {
        Assert.True(run.ExitCode == 0, run.ToString());
        return JsonDocument.Parse(run.Stdout).RootElement.Clone();
    }
}
