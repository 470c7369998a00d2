using System.Text;

namespace OpenMosix.Daemon.Web.Metrics;

/// <summary>
/// Prometheus's text exposition format (version 0.0.4), written by hand rather than with prometheus-net: measured
/// (docs/performance.md), the library adds 1.5 MB to om and 3 MiB to omd's RSS for the same page, starts default
/// collectors in the background, and needs a dependency pinned by hand; omd holds its figures already (the cluster
/// view, the process registry, the gossip and migration counters), and a scrape is a few dozen lines read from them.
/// </summary>
public sealed class ExpositionWriter(StringBuilder output)
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The # HELP and # TYPE lines that open a metric family (type: counter, gauge, histogram, untyped).</summary>
    public void Family(string name, string type, string help)
    {
        RequireName(name, label: false);
        output.Append("# HELP ").Append(name).Append(' ');
        AppendEscaped(help, quotes: false);
        output.Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    /// <summary>One sample: name{label="value",...} value.</summary>
    public void Sample(string name, double value, params ReadOnlySpan<(string Name, string Value)> labels)
    {
        RequireName(name, label: false);
        output.Append(name);
        if (!labels.IsEmpty)
        {
            output.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                RequireName(labels[i].Name, label: true);
                if (i > 0) output.Append(',');
                output.Append(labels[i].Name).Append("=\"");
                AppendEscaped(labels[i].Value, quotes: true);
                output.Append('"');
            }
            output.Append('}');
        }
        output.Append(' ').Append(Number(value)).Append('\n');
    }

    /// <summary>A histogram: cumulative _bucket lines for each upper bound and +Inf, then _sum and _count.
    /// <paramref name="counts"/> holds one count per bound plus the one above them all, not yet cumulative.</summary>
    public void Histogram(string name, string help, ReadOnlySpan<double> bounds, ReadOnlySpan<long> counts, double sum)
    {
        if (counts.Length != bounds.Length + 1) throw new ArgumentException("one count per bound and one above them", nameof(counts));
        Family(name, "histogram", help);
        var bucket = name + "_bucket";
        long cumulative = 0;
        for (var i = 0; i < bounds.Length; i++)
        {
            cumulative += counts[i];
            Sample(bucket, cumulative, ("le", Number(bounds[i])));
        }
        cumulative += counts[^1];
        Sample(bucket, cumulative, ("le", "+Inf"));
        Sample(name + "_sum", sum);
        Sample(name + "_count", cumulative);
    }

    /// <summary>Backslash and line feed escaped, and in a label value the double quote too, as the format asks.</summary>
    private void AppendEscaped(string text, bool quotes)
    {
        foreach (var c in text)
        {
            if (c == '\\') output.Append("\\\\");
            else if (c == '\n') output.Append("\\n");
            else if (c == '"' && quotes) output.Append("\\\"");
            else output.Append(c);
        }
    }

    /// <summary>A value as Go's ParseFloat (Prometheus's parser) reads it back exactly.</summary>
    public static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Names are the code's own; a wrong one is a bug, caught by the first scrape in the tests.</summary>
    private static void RequireName(string name, bool label)
    {
        var valid = name.Length > 0 && !char.IsAsciiDigit(name[0]) && !(label && name.StartsWith("__", StringComparison.Ordinal));
        foreach (var c in name)
            valid &= char.IsAsciiLetterOrDigit(c) || c == '_' || (!label && c == ':');
        if (!valid) throw new ArgumentException($"'{name}' is not a valid Prometheus {(label ? "label" : "metric")} name", nameof(name));
    }
}
