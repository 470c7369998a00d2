using OpenMosix.Lab;

namespace OpenMosix.Cli.Commands.Lab;

internal static class LabExecCommand
{
    public static Command Create()
    {
        var node = new Argument<int>("NODE") { Description = "The node to run in (1..N)." };
        var commandLine = new Argument<string[]>("COMMAND")
        {
            Description = "The command and its arguments, after `--`.",
            Arity = ArgumentArity.OneOrMore,
        };
        var name = LabOptions.Name();
        var command = new Command("exec", "Run a command inside a node, as if logged in there: its network, mounts and cgroups; exits with its status.")
        {
            node, commandLine, name,
        };
        command.SetAction(parse =>
        {
            // Returns only by throwing: on success this process has become the command.
            NodeEntry.Become(new LabLayout(LabName.Parse(parse.GetRequiredValue(name))), parse.GetValue(node), parse.GetRequiredValue(commandLine));
            return 1;
        });
        return command;
    }
}
