using System.CommandLine;

namespace OpenMosix.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("openMosix.NET: one cluster out of many Linux machines.");
        return root.Parse(args).Invoke();
    }
}
