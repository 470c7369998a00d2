using System.Globalization;

namespace OpenMosix.Simulator.Specs;

/// <summary>A number drawn per job or node: <c>X</c> (fixed), <c>uniform:A-B</c>, or <c>exp:MEAN</c>.</summary>
public sealed record Distribution(string Kind, double A, double B = 0)
{
    public double Draw(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Kind switch
        {
            "uniform" => A + (B - A) * random.NextDouble(),
            "exp" => -A * Math.Log(1 - random.NextDouble()),
            _ => A,
        };
    }

    public double Mean => Kind switch { "uniform" => (A + B) / 2, _ => A };

    public static Distribution Parse(string text, string what)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0) return new Distribution("fixed", Number(text, what));
        var kind = text[..colon];
        var rest = text[(colon + 1)..];
        switch (kind)
        {
            case "uniform":
                var dash = rest.IndexOf('-', StringComparison.Ordinal);
                if (dash <= 0) throw new FormatException($"{what}: 'uniform:{rest}' needs A-B");
                var (a, b) = (Number(rest[..dash], what), Number(rest[(dash + 1)..], what));
                if (b < a) throw new FormatException($"{what}: uniform:{rest} has its bounds reversed");
                return new Distribution(kind, a, b);
            case "exp":
                return new Distribution(kind, Number(rest, what));
            default:
                throw new FormatException($"{what}: unknown distribution '{kind}' (use a number, uniform:A-B or exp:MEAN)");
        }
    }

    private static double Number(string text, string what) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && double.IsFinite(value)
            ? value
            : throw new FormatException($"{what}: '{text}' is not a non-negative number");
}
