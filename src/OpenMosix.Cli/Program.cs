namespace OpenMosix.Cli;

internal static class Program
{
    private static int Main(string[] args) => CommandLine.Run(InvokedName.Read(), args);
}
