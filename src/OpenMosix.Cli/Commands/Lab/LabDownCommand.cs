using OpenMosix.Lab;

namespace OpenMosix.Cli.Commands.Lab;

internal static class LabDownCommand
{
    public static Command Create()
    {
        var name = LabOptions.Name();
        var all = new Option<bool>("--all") { Description = "Remove every lab on this machine." };
        var command = new Command("down", "Remove a lab completely: its processes, mounts, links, namespaces, cgroups and files; also after a crash.")
        {
            name, all,
        };
        command.SetAction(parse => Run(parse, parse.GetRequiredValue(name), parse.GetValue(all)));
        return command;
    }

    private static int Run(ParseResult parse, string name, bool all)
    {
        if (!Environment.IsPrivilegedProcess) throw new LabException("lab down: the lab needs root (namespaces, cgroups, links)");
        var names = all ? LabInventory.AllNames() : [LabName.Parse(name)];
        using var loggers = CommandLine.Loggers(parse);
        var logger = loggers.CreateLogger("OpenMosix.Lab");
        using var labLock = LabLock.Acquire();
        if (names.Count == 0) Console.WriteLine("no labs to remove");
        foreach (var lab in names)
        {
            var removed = LabTeardown.Remove(new LabLayout(lab), logger);
            Console.WriteLine(removed.IsEmpty ? $"lab {lab}: nothing to remove" : $"lab {lab} removed ({removed.Describe()})");
        }
        return 0;
    }
}
