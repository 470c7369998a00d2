namespace OpenMosix.Lab.Host;

/// <summary>Finds a program on PATH, as a shell would, for execve (which does no search of its own).</summary>
public static class ToolPath
{
    public static string Find(string program)
    {
        var path = Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } p ? p : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        throw new LabException($"{program} is not on PATH; the lab needs util-linux");
    }
}
