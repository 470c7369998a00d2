using System.Text.Json.Serialization.Metadata;

namespace OpenMosix.Cli.Infrastructure;

/// <summary>
/// The shape most commands share: read the inputs, get one result, print it as JSON with --json or as text without,
/// and exit with a status that follows from the result (0 unless <c>exitCode</c> says otherwise).
/// </summary>
internal static class ResultCommand
{
    /// <param name="inputs">The command's arguments and options, in the order its help lists them; --json follows.</param>
    /// <param name="json">A --json option with its own description, when the default one does not fit.</param>
    public static Command Create<T>(string name, string description, Symbol[] inputs, JsonTypeInfo<T> type,
        Func<ParseResult, T> run, Action<T> print, Func<T, int>? exitCode = null, Option<bool>? json = null)
    {
        var jsonOption = json ?? GlobalOptions.Json();
        var command = new Command(name, description);
        foreach (var input in inputs)
        {
            if (input is Argument argument) command.Add(argument);
            else command.Add((Option)input);
        }
        command.Add(jsonOption);
        command.SetAction(parse =>
        {
            var result = run(parse);
            JsonOutput.Print(parse, jsonOption, result, type, () => print(result));
            return exitCode?.Invoke(result) ?? 0;
        });
        return command;
    }
}
