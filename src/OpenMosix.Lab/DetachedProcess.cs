using OpenMosix.Linux;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Lab;

/// <summary>
/// Spawns a long-lived helper detached from whoever started it: a session of its own, stdin /dev/null, stdout and stderr
/// appended to a log, working directory `/` (so it holds no caller's directory busy and no caller's terminal).
/// </summary>
public static class DetachedProcess
{
    private const OpenFlags WriteOnlyCreateAppend = OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Append;

    /// <summary>Starts <paramref name="arguments"/> (argv[0] included) from <paramref name="path"/>; returns its PID.</summary>
    public static int Spawn(string path, IReadOnlyList<string> arguments, string logPath)
    {
        using var stdin = Descriptors.Open("/dev/null", OpenFlags.ReadOnly);
        using var log = Descriptors.Open(logPath, WriteOnlyCreateAppend, Convert.ToInt32("644", 8));
        return ProcessSpawner.Spawn(new SpawnRequest(path, arguments)
        {
            Descriptors = new Dictionary<int, int>
            {
                [0] = (int)stdin.DangerousGetHandle(),
                [1] = (int)log.DangerousGetHandle(),
                [2] = (int)log.DangerousGetHandle(),
            },
            NewSession = true,
            WorkingDirectory = "/",
        });
    }
}
