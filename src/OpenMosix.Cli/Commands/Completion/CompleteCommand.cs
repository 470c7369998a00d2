namespace OpenMosix.Cli.Commands.Completion;

/// <summary>
/// `om complete -- NAME WORD...`: the suggestions the completion scripts show, one per line. NAME is the program the
/// user typed (om or a classic name such as mosctl), the last WORD the one being completed. Hidden: it is for the
/// scripts of `om completion`, not for people.
/// </summary>
internal static class CompleteCommand
{
    public static Command Create()
    {
        var words = new Argument<string[]>("WORDS")
        {
            Description = "The program name, then the words after it; the last is the word being completed (may be empty).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("complete", "Print completion suggestions for a command line, one per line (used by the `om completion` scripts).")
        {
            words,
        };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            var line = parse.GetValue(words) ?? [];
            var name = line.Length == 0 ? "om" : Path.GetFileName(line[0]);
            string[] typed = [.. CommandCatalog.ClassicWords(name), .. line.Skip(1)];
            foreach (var suggestion in CompletionSuggestions.For(CommandCatalog.Build(), typed)) Console.WriteLine(suggestion);
            return 0;
        });
        return command;
    }
}
