namespace OpenMosix.Cli.Commands.Completion;

/// <summary>
/// `om completion bash|zsh|fish`: a completion script for om and every classic name. The scripts hold no list of
/// commands or options: they ask `om complete` at each TAB, so they stay right as commands change.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create()
    {
        string[] shells = ["bash", "zsh", "fish"];
        var shell = new Argument<string>("SHELL") { Description = "bash, zsh or fish." };
        shell.CompletionSources.Add(shells);
        shell.Validators.Add(result =>
        {
            if (!shells.Contains(result.GetValueOrDefault<string>()))
                result.AddError($"no completion for shell '{result.GetValueOrDefault<string>()}': bash, zsh or fish");
        });
        var command = new Command("completion",
            "Print the shell completion script for om and its classic names. bash: `source <(om completion bash)`, or save it " +
            "as /usr/share/bash-completion/completions/om; zsh: save it as _om in a directory of $fpath; fish: save it as " +
            "~/.config/fish/completions/om.fish. packaging/install.sh installs all three.")
        {
            shell,
        };
        command.SetAction(parse =>
        {
            Console.Out.Write(Script(parse.GetValue(shell)!));
            return 0;
        });
        return command;
    }

    /// <summary>The script of a shell, with the names it completes filled in.</summary>
    private static string Script(string shell)
    {
        using var stream = typeof(CompletionCommand).Assembly.GetManifestResourceStream($"completion.{shell}")
                           ?? throw new InvalidOperationException($"om was built without its {shell} completion script");
        using var reader = new StreamReader(stream);
        var names = string.Join(' ', CommandCatalog.ClassicProgramNames.Order(StringComparer.Ordinal).Prepend("om"));
        return reader.ReadToEnd().Replace("@NAMES@", names, StringComparison.Ordinal);
    }
}
