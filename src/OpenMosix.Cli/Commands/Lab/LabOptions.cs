using OpenMosix.Lab;

namespace OpenMosix.Cli.Commands.Lab;

internal static class LabOptions
{
    public static Option<string> Name() => new("--name")
    {
        Description = $"The lab's name (1-{LabName.MaxLength} characters: a-z, 0-9, '-'); several labs with different names can coexist.",
        DefaultValueFactory = _ => LabName.Default,
    };

    public static Argument<int> Node(string description) => new("NODE") { Description = description };

    /// <summary>--timeout: seconds to wait for omd to accept connections on its socket.</summary>
    public static Option<double> Timeout(string description) => new("--timeout")
    {
        Description = description,
        DefaultValueFactory = _ => 30,
    };

    public static TimeSpan ValidTimeout(double seconds) => seconds is > 0 and <= 3600
        ? TimeSpan.FromSeconds(seconds)
        : throw new UsageException($"--timeout must be between 0 and 3600 seconds, not {seconds}");

    public static string OmPath() => Environment.ProcessPath ?? throw new InvalidOperationException("the path of the running om is unknown");
}
