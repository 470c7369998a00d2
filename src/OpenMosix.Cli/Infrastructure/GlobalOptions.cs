namespace OpenMosix.Cli.Infrastructure;

internal static class GlobalOptions
{
    public static readonly Option<bool> Debug = new("--debug")
    {
        Description = "Show debug logs, and stack traces with errors.",
        Recursive = true,
    };

    public static Option<bool> Json() => new("--json") { Description = "Print the result as JSON." };
}
