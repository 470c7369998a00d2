using OpenMosix.Lab;

namespace OpenMosix.Cli.Commands.Lab;

internal static class LabDownCommand
{
    public static Command Create()
    {
        var name = LabOptions.Name();
        var all = new Option<bool>("--all") { Description = "Remove every lab on this machine." };
        return ResultCommand.Create("down", "Remove a lab completely: its processes, mounts, links, namespaces, cgroups and files; also after a crash.",
            [name, all], CliJsonContext.Default.LabDownJson, parse => Run(parse, parse.GetRequiredValue(name), parse.GetValue(all)), Print);
    }

    private static LabDownJson Run(ParseResult parse, string name, bool all)
    {
        if (!Environment.IsPrivilegedProcess) throw new LabException("lab down: the lab needs root (namespaces, cgroups, links)");
        var names = all ? LabInventory.AllNames() : [LabName.Parse(name)];
        using var loggers = CommandLine.Loggers(parse);
        var logger = loggers.CreateLogger("OpenMosix.Lab");
        using var labLock = LabLock.Acquire();
        return new LabDownJson([.. names.Select(Remove)]);

        LabRemovedJson Remove(LabName lab)
        {
            var removed = LabTeardown.Remove(new LabLayout(lab), logger);
            return new LabRemovedJson(lab.ToString(), !removed.IsEmpty, removed.IsEmpty ? "" : removed.Describe());
        }
    }

    private static void Print(LabDownJson down)
    {
        if (down.Labs.Count == 0) Console.WriteLine("no labs to remove");
        foreach (var lab in down.Labs)
            Console.WriteLine(lab.Found ? $"lab {lab.Name} removed ({lab.Removed})" : $"lab {lab.Name}: nothing to remove");
    }
}

/// <summary>om lab down --json: each lab asked for, whether anything of it was found, and what was removed.</summary>
internal sealed record LabDownJson(IReadOnlyList<LabRemovedJson> Labs);

internal sealed record LabRemovedJson(string Name, bool Found, string Removed);
