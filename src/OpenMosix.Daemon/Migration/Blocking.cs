namespace OpenMosix.Daemon.Migration;

/// <summary>
/// Work that blocks a thread for long (ptrace through the engine, a pipe or terminal read, a waitpid, a whole
/// migration) runs on a thread of its own: on the thread pool a few of them starve everything else for the half
/// second per thread the pool takes to grow (measured: the first migration in a lab node froze its process 0.5 s).
/// </summary>
public static class Blocking
{
    public static Task<T> Run<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
