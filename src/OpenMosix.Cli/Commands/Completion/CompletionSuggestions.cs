using System.CommandLine.Completions;

namespace OpenMosix.Cli.Commands.Completion;

/// <summary>
/// What may come next on a command line, read off the command tree itself so that completion never falls behind the
/// commands: subcommands and fixed argument values for a word, options for a word that starts with '-', the values of
/// an option that waits for one. Everything after `om run`'s program belongs to the program, so nothing is suggested
/// there and the shell completes file names.
/// </summary>
internal static class CompletionSuggestions
{
    /// <param name="words">The words after `om` (a classic name's words already in front); the last is the one being
    /// completed, possibly empty.</param>
    public static IEnumerable<string> For(Command root, IReadOnlyList<string> words)
    {
        var current = words.Count == 0 ? "" : words[^1];
        var before = words.Take(Math.Max(words.Count - 1, 0)).ToArray();
        var command = root.Parse(before).CommandResult.Command;
        if (ProgramStarted(command, before)) return [];
        var options = Reachable(command).ToList();
        if (before.Length > 0 && options.FirstOrDefault(o => Spellings(o).Contains(before[^1])) is { } waiting && TakesValue(waiting))
            return Matching(waiting.GetCompletions(CompletionContext.Empty).Select(c => c.Label), current);
        if (current.StartsWith('-')) return Matching(options.SelectMany(Spellings), current);
        var values = command.Arguments.SelectMany(a => a.GetCompletions(CompletionContext.Empty)).Select(c => c.Label);
        return Matching(command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).Concat(values), current);
    }

    /// <summary>The command's own options and those its ancestors give every subcommand (help, --debug).</summary>
    private static IEnumerable<Option> Reachable(Command command)
    {
        var own = command.Options.Where(o => !o.Hidden);
        var inherited = Ancestors(command).SelectMany(a => a.Options).Where(o => o.Recursive && !o.Hidden);
        return own.Concat(inherited).Distinct();
    }

    private static IEnumerable<Command> Ancestors(Command command)
    {
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null;
             parent = parent.Parents.OfType<Command>().FirstOrDefault())
            yield return parent;
    }

    /// <summary>Help is offered as --help only: -h is mosrun's "home", and -? is no word anyone types.</summary>
    private static IEnumerable<string> Spellings(Option option) =>
        option is System.CommandLine.Help.HelpOption ? [option.Name] : option.Aliases.Prepend(option.Name);

    private static bool TakesValue(Option option) => option.ValueType != typeof(bool) && option.Arity.MaximumNumberOfValues > 0;

    /// <summary>A word after `run` that is neither an option nor an option's value is the program; the rest of the
    /// line is the program's.</summary>
    private static bool ProgramStarted(Command command, string[] before)
    {
        if (command.Name != "run") return false;
        var valued = Reachable(command).Where(TakesValue).SelectMany(Spellings).ToHashSet();
        for (var i = Array.IndexOf(before, "run") + 1; i < before.Length; i++)
        {
            if (valued.Contains(before[i])) i++;
            else if (!before[i].StartsWith('-') || before[i] == "--") return true;
        }
        return false;
    }

    private static IEnumerable<string> Matching(IEnumerable<string> candidates, string prefix) =>
        candidates.Where(c => c.StartsWith(prefix, StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal);
}
