namespace OpenMosix.Cli.Commands.Completion;

/// <summary>
/// `om classic-names`: every classic openMosix name om answers to, with the om words it stands for, one per line
/// ("runhome run --home"). packaging/install.sh links each name to om from this list, and the completion scripts
/// complete each, so the list lives only in CommandCatalog. Hidden: a tool for scripts.
/// </summary>
internal static class ClassicNamesCommand
{
    public static Command Create()
    {
        var command = new Command("classic-names",
            "Print the classic program names om answers to through a link of that name, each with the om words it stands for.");
        command.Hidden = true;
        command.SetAction(_ =>
        {
            foreach (var name in CommandCatalog.ClassicProgramNames.Order(StringComparer.Ordinal))
                Console.WriteLine($"{name} {string.Join(' ', CommandCatalog.ClassicWords(name))}");
            return 0;
        });
        return command;
    }
}
