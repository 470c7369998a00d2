namespace OpenMosix.Cli.Commands;

internal static class Pids
{
    public static int Check(int pid) =>
        pid > 0 ? pid : throw new UsageException($"{pid} is not a process id");
}
