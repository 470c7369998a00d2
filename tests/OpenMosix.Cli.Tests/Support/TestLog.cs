namespace OpenMosix.Cli.Tests.Support;

/// <summary>Lines in the test's own output, so a failure shows the seed, delays and commands needed to reproduce it.</summary>
internal static class TestLog
{
    public static void Line(string message) => TestContext.Current.TestOutputHelper?.WriteLine(message);
}
