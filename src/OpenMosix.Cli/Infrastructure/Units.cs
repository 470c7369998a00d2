namespace OpenMosix.Cli.Infrastructure;

/// <summary>Human-sized numbers for tables.</summary>
internal static class Units
{
    public static string Bytes(long bytes)
    {
        if (bytes < 0) return "-";
        string[] suffixes = ["B", "K", "M", "G", "T"];
        double value = bytes;
        var i = 0;
        while (value >= 1024 && i < suffixes.Length - 1)
        {
            value /= 1024;
            i++;
        }
        return string.Create(CultureInfo.InvariantCulture, $"{value:0.#}{suffixes[i]}");
    }

    public static string Age(long milliseconds) => milliseconds switch
    {
        < 0 => "never",
        < 1000 => "now",
        < 120_000 => string.Create(CultureInfo.InvariantCulture, $"{milliseconds / 1000}s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{milliseconds / 60_000}m"),
    };
}
