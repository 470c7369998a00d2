using Microsoft.Extensions.Logging;

namespace OpenMosix.Cli.Infrastructure;

/// <summary>Parses, runs, and turns every failure into one line on stderr and an exit code.</summary>
internal static class CommandLine
{
    public const int UsageError = 2;

    public static int Run(string invokedAs, string[] commandLine)
    {
        var root = CommandCatalog.Build();
        var usageName = CommandCatalog.CommandWordsOf(invokedAs) is null ? "om" : invokedAs;
        string[] args;
        try
        {
            args = CommandCatalog.ArgumentsFor(invokedAs, commandLine, root);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"om: {e.Message}");
            return UsageError;
        }
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && !WantsHelp(args))
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine($"om: {error.Message}");
            Console.Error.WriteLine($"om: see `{usageName} --help`");
            return UsageError;
        }
        var debug = parse.GetValue(GlobalOptions.Debug);
        var help = ClassicHelp.For(invokedAs);
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = help?.Output ?? Console.Out });
        }
        catch (Exception e) when (!debug)
        {
            Console.Error.WriteLine($"om: {ErrorMessages.Describe(e)}");
            return ErrorMessages.ExitCodeFor(e);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"om: {ErrorMessages.Describe(e)}");
            Console.Error.WriteLine(e);
            return ErrorMessages.ExitCodeFor(e);
        }
        finally
        {
            help?.Flush();
        }
    }

    public static ILoggerFactory Loggers(ParseResult parse)
    {
        var level = parse.GetValue(GlobalOptions.Debug) ? LogLevel.Debug : LogLevel.Warning;
        return LoggerFactory.Create(builder => builder
            .SetMinimumLevel(level)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
    }

    private static bool WantsHelp(string[] args) => args.Any(a => a is "-h" or "--help" or "-?");
}
