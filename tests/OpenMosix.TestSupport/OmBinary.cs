namespace OpenMosix.TestSupport;

/// <summary>The NativeAOT om under test: OM_BIN, else artifacts/bin/om of this repository (built by test.sh).</summary>
public static class OmBinary
{
    public static string Path => Environment.GetEnvironmentVariable("OM_BIN") is { Length: > 0 } bin
        ? bin
        : System.IO.Path.Combine(TestPrograms.RepositoryRoot, "artifacts", "bin", "om");
}
