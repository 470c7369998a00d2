using System.Text;
using OpenMosix.Daemon.Web.Metrics;

namespace OpenMosix.Daemon.Tests.Web;

public sealed class ExpositionWriterTests
{
    private static string Written(Action<ExpositionWriter> write)
    {
        var text = new StringBuilder();
        write(new ExpositionWriter(text));
        return text.ToString();
    }

    [Fact]
    public void A_family_opens_with_its_help_and_type_lines()
    {
        Assert.Equal("# HELP omd_up Whether it runs.\n# TYPE omd_up gauge\nomd_up 1\n",
            Written(w => { w.Family("omd_up", "gauge", "Whether it runs."); w.Sample("omd_up", 1); }));
    }

    [Fact]
    public void Label_values_escape_backslash_double_quote_and_line_feed()
    {
        Assert.Equal("m{a=\"C:\\\\x\",b=\"say \\\"hi\\\"\",c=\"two\\nlines\"} 2\n",
            Written(w => w.Sample("m", 2, ("a", "C:\\x"), ("b", "say \"hi\""), ("c", "two\nlines"))));
    }

    [Fact]
    public void Help_text_escapes_backslash_and_line_feed_but_not_quotes()
    {
        Assert.StartsWith("# HELP m a \\\\ b\\nc \"q\"\n", Written(w => w.Family("m", "counter", "a \\ b\nc \"q\"")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(3.0, "3")]
    [InlineData(0.25, "0.25")]
    [InlineData(-1.5, "-1.5")]
    [InlineData(1e21, "1E+21")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    public void Values_are_written_as_prometheus_parses_them(double value, string expected)
    {
        Assert.Equal(expected, ExpositionWriter.Number(value));
    }

    [Fact]
    public void A_histogram_has_cumulative_buckets_an_infinite_one_a_sum_and_a_count()
    {
        var text = Written(w => w.Histogram("h_seconds", "H.", [0.1, 1], [2, 0, 3], 7.5));
        Assert.Equal("""
            # HELP h_seconds H.
            # TYPE h_seconds histogram
            h_seconds_bucket{le="0.1"} 2
            h_seconds_bucket{le="1"} 2
            h_seconds_bucket{le="+Inf"} 5
            h_seconds_sum 7.5
            h_seconds_count 5

            """.ReplaceLineEndings("\n"), text);
    }

    [Theory]
    [InlineData("9lives")]
    [InlineData("has-dash")]
    [InlineData("")]
    public void An_invalid_metric_name_is_refused(string name)
    {
        Assert.Throws<ArgumentException>(() => Written(w => w.Sample(name, 1)));
    }

    [Fact]
    public void A_label_name_may_not_have_a_colon_nor_the_reserved_prefix()
    {
        Assert.Throws<ArgumentException>(() => Written(w => w.Sample("m", 1, ("a:b", "x"))));
        Assert.Throws<ArgumentException>(() => Written(w => w.Sample("m", 1, ("__name", "x"))));
    }
}
