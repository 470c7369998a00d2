namespace OpenMosix.Cli.Tests.Support;

/// <summary>A fresh directory per test run, removed on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string label)
    {
        Path = Directory.CreateTempSubdirectory($"om-e2e-{label}-").FullName;
    }

    public string Path { get; }

    public string File(string relative) => System.IO.Path.Combine(Path, relative);

    public string Subdirectory(string relative) => Directory.CreateDirectory(File(relative)).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process that outlived a failed test may still hold files here; the next boot's tmp cleaner gets it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
