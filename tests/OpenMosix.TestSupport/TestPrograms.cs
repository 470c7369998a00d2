using System.Diagnostics;

namespace OpenMosix.TestSupport;

/// <summary>Finds the C test programs (tests/Programs/build), building them with make when they are missing.</summary>
public static class TestPrograms
{
    private static readonly Lock BuildLock = new();

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "OpenMosix.slnx"))) return dir.FullName;
            throw new InvalidOperationException("cannot find the repository root (OpenMosix.slnx) above " + AppContext.BaseDirectory);
        }
    }

    public static string Directory =>
        Environment.GetEnvironmentVariable("OM_TEST_PROGRAMS") is { Length: > 0 } dir ? dir : Path.Combine(RepositoryRoot, "tests", "Programs", "build");

    /// <summary>The full path of test program <paramref name="name"/>.</summary>
    public static string Locate(string name)
    {
        var path = Path.Combine(Directory, name);
        if (File.Exists(path)) return path;
        lock (BuildLock)
        {
            if (!File.Exists(path) && Environment.GetEnvironmentVariable("OM_TEST_PROGRAMS") is not { Length: > 0 })
            {
                using var make = Process.Start(new ProcessStartInfo("make", ["-s", "-C", Path.Combine(RepositoryRoot, "tests", "Programs")])
                { RedirectStandardOutput = true, RedirectStandardError = true })!;
                var errors = make.StandardError.ReadToEnd();
                make.WaitForExit();
                if (make.ExitCode != 0) throw new InvalidOperationException($"building test programs failed: {errors}");
            }
        }
        return File.Exists(path) ? path : throw new FileNotFoundException($"test program {name} not found in {Directory}");
    }
}
