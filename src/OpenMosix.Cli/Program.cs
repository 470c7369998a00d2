using OpenMosix.Cli.Infrastructure;

namespace OpenMosix.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var invokedAs = InvokedName.Read();
        return CommandLine.Run(CommandCatalog.ArgumentsFor(invokedAs, args));
    }
}
