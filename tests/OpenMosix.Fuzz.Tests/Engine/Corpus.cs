namespace OpenMosix.Fuzz.Tests.Engine;

/// <summary>
/// The checked-in inputs of a target (tests/OpenMosix.Fuzz.Tests/Corpus/TARGET, copied beside the tests): valid-*
/// are real inputs the code produced and must be accepted; every other file (edge cases, crash-* regressions) only
/// has to be handled cleanly.
/// </summary>
public static class Corpus
{
    public const string ValidPrefix = "valid-";

    public static IReadOnlyList<(string Name, byte[] Data)> Load(string target)
    {
        var directory = Path.Join(AppContext.BaseDirectory, "Corpus", target);
        if (!Directory.Exists(directory)) return [];
        return [.. Directory.GetFiles(directory).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)))];
    }

    /// <summary>The corpus folder in the source tree (for OM_FUZZ_WRITE_CORPUS=1 and for saving new regressions).</summary>
    public static string SourceDirectory(string target)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var project = Path.Join(dir.FullName, "tests", "OpenMosix.Fuzz.Tests");
            if (File.Exists(Path.Join(project, "OpenMosix.Fuzz.Tests.csproj"))) return Path.Join(project, "Corpus", target);
        }
        throw new DirectoryNotFoundException("the source tree of OpenMosix.Fuzz.Tests is not above the test binaries");
    }

    /// <summary>Writes a target's generated seeds into the source tree as valid-NAME files.</summary>
    public static void WriteSeeds(FuzzTarget target)
    {
        var directory = SourceDirectory(target.Name);
        Directory.CreateDirectory(directory);
        foreach (var (name, data) in target.Seeds()) File.WriteAllBytes(Path.Join(directory, ValidPrefix + name), data);
    }
}
