namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>Files of the repository the seeds start from (the shipped examples), found above the test binaries.</summary>
internal static class RepositoryFiles
{
    public static byte[] Read(string relativePath)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Join(dir.FullName, relativePath);
            if (File.Exists(path) && File.Exists(Path.Join(dir.FullName, "OpenMosix.slnx"))) return File.ReadAllBytes(path);
        }
        throw new FileNotFoundException($"{relativePath} is not in the repository above the test binaries");
    }
}
