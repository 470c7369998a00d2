using OpenMosix.Balancing.Demand;
using OpenMosix.Daemon.Balancing;
using OpenMosix.Daemon.Config;

namespace OpenMosix.Daemon.Tests.Balancing;

public sealed class TunablesTests
{
    [Fact]
    public void What_gettune_prints_reads_back_as_the_same_balance_section()
    {
        var config = OmdConfigLoader.Parse("""
            [balance]
            interval_ms = 500
            margin = 0.2
            link_mb_per_second = 12.5
            keep_free_percent = 7.5
            usher_below_free_percent = 5
            fast_half_life_ms = 1500
            """, "omd.toml");
        var printed = Tunables.Of(config, config.Decay).Tunables;
        var text = "[balance]\n" + string.Concat(printed.Select(t => $"{t.Name} = {t.Value}\n"));
        Assert.Equal(config, OmdConfigLoader.Parse(text, "omd.toml"));
    }

    [Fact]
    public void Every_tunable_gettune_prints_is_documented_in_balancing_md_and_omd_md()
    {
        var docs = Path.Join(OpenMosix.TestSupport.TestPrograms.RepositoryRoot, "docs");
        var balancing = File.ReadAllText(Path.Join(docs, "balancing.md"));
        var omd = File.ReadAllText(Path.Join(docs, "omd.md"));
        foreach (var t in Tunables.Of(new OmdConfig(), DecayRates.Default).Tunables)
        {
            Assert.Contains($"| `{t.Name}` | {t.Value} |", balancing, StringComparison.Ordinal);
            Assert.Contains($"| `balance.{t.Name}` | {t.Value} |", omd, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Gettune_shows_the_half_lives_in_effect_not_those_omd_started_with()
    {
        var printed = Tunables.Of(new OmdConfig(), new DecayRates(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2))).Tunables;
        Assert.Equal(new("slow_half_life_ms", "30000", "ms"), printed.Single(t => t.Name == "slow_half_life_ms"));
        Assert.Equal(new("fast_half_life_ms", "2000", "ms"), printed.Single(t => t.Name == "fast_half_life_ms"));
    }

    [Fact]
    public void Decay_settings_refuse_rates_that_cannot_be_used_and_keep_the_old_ones()
    {
        var settings = new DecaySettings(DecayRates.Default);
        var error = Assert.Throws<ArgumentException>(() => settings.Set(new DecayRates(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2))));
        Assert.StartsWith("the fast half-life (2 s) must not be longer than the slow one (1 s)", error.Message, StringComparison.Ordinal);
        Assert.Equal(DecayRates.Default, settings.Rates);
    }

    [Theory]
    [InlineData(null, true, null)]
    [InlineData("slow", true, DecayMode.Slow)]
    [InlineData("none", true, DecayMode.None)]
    [InlineData("Fast", false, null)]
    public void Decay_names_of_the_admin_api_are_lower_case_words(string? text, bool known, DecayMode? mode) =>
        Assert.Equal((known, mode), (JobOptions.TryParseDecay(text, out var parsed), parsed));

    [Theory]
    [InlineData(null, true, JobHint.Measured)]
    [InlineData("cpu", true, JobHint.Cpu)]
    [InlineData("io", true, JobHint.Io)]
    [InlineData("cpujob", false, JobHint.Measured)]
    public void Job_hint_names_of_the_admin_api_are_cpu_and_io(string? text, bool known, JobHint hint) =>
        Assert.Equal((known, hint), (JobOptions.TryParseHint(text, out var parsed), parsed));
}
