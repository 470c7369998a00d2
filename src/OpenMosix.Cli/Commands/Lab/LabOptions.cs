using OpenMosix.Lab;

namespace OpenMosix.Cli.Commands.Lab;

internal static class LabOptions
{
    public static Option<string> Name() => new("--name")
    {
        Description = $"The lab's name (1-{LabName.MaxLength} characters: a-z, 0-9, '-'); several labs with different names can coexist.",
        DefaultValueFactory = _ => LabName.Default,
    };
}
