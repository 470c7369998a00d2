using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Linux;

namespace OpenMosix.Cli.Infrastructure;

/// <summary>What a user reads when a command fails: one line, no stack trace, and a distinct exit code.</summary>
internal static class ErrorMessages
{
    public static string Describe(Exception e) => e switch
    {
        UsageException u => u.Message,
        OpenMosix.Admin.AdminException a => a.Message,
        CantMoveException c => c.Message,
        CorruptImageException c => c.Message,
        SyscallException s => s.Message,
        FileNotFoundException f => $"no such file: {f.FileName ?? f.Message}",
        DirectoryNotFoundException d => d.Message,
        UnauthorizedAccessException a => $"permission denied: {a.Message}",
        IOException io => io.Message,
        // Our own exception types are written to be read by users.
        _ when e.GetType().Namespace?.StartsWith("OpenMosix.", StringComparison.Ordinal) == true => e.Message,
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    public static int ExitCodeFor(Exception e) => e is UsageException ? CommandLine.UsageError : 1;
}

/// <summary>The command line was understood but its values make no sense (a PID of 0, say).</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>A command ran but could not do what was asked (a node that is not in the map, say): exit status 1.</summary>
internal sealed class CommandFailedException(string message) : Exception(message);
