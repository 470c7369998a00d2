using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>
/// A Python job that an interactive bash at home on node 1 starts with `om run` (tmux plays the user's terminal), moved
/// to node 2 once it has said it started: the common start of the lab tests of a moved job's terminal and job control
/// (BackgroundReadLabTests, BackgroundWriteLabTests, TypedAheadLabTests). The job holds until the test makes its go
/// file, so that what it then does to the terminal happens after the move, however slow the machine.
/// </summary>
internal sealed class MovedShellJob : IDisposable
{
    private readonly TestLab _lab;
    private readonly Linux.PidFd _deputy;

    private MovedShellJob(TestLab lab, TmuxTerminal terminal, int python, string go)
    {
        _lab = lab;
        Terminal = terminal;
        Python = python;
        Go = go;
        // Taken while the job waits for its go file: once the shell has reaped it, its PID may name another process.
        _deputy = Linux.PidFd.Open(python);
    }

    public TmuxTerminal Terminal { get; }

    /// <summary>The job's pid at home (its deputy once moved).</summary>
    public int Python { get; }

    /// <summary>Whether the job has ended and its shell reaped it (by its pidfd, not its PID).</summary>
    public bool Gone => !_deputy.Exists;

    /// <summary>The file whose existence lets the job go on (it gives up by itself after 120 s).</summary>
    public string Go { get; }

    /// <summary>A job's script: argv[1] is its mode, argv[2] its go file. <paramref name="setup"/> runs first (signal
    /// dispositions), then the job prints "started MODE" and waits for the go file, then runs <paramref name="afterGo"/>.
    /// Both are Python at the top level; the os, signal, sys, termios and time modules are imported.</summary>
    public static string Script(string setup, string afterGo) =>
        "import os, signal, sys, termios, time\n"
        + setup.TrimEnd() + "\n"
        + """
          print("started", sys.argv[1], flush=True)
          deadline = time.monotonic() + 120
          while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
              time.sleep(0.05)

          """
        + afterGo.TrimEnd() + "\n";

    /// <summary>Lets the job go on.</summary>
    public void Release() => File.WriteAllText(Go, "");

    /// <summary>Lets the job go and waits until home's job control stopped it (by <paramref name="signal"/>): its copy
    /// on node 2 is stopped, and the shell at home lists it among its stopped jobs.</summary>
    public void ReleaseUntilStopped(string signal)
    {
        Release();
        var copy = _lab.Processes(1).Processes.Single(p => p.Pid == Python).RemotePid;
        // In one lab every node's processes are the host's: the copy's state is read here.
        Poll.Until(() => ProcFs.ReadStat(copy).State is 'T' or 't', TimeSpan.FromSeconds(30), $"{signal} to stop the moved job's copy");
        // The job's group is the program's (om run execs it): the shell lists it among its stopped jobs.
        Terminal.Type("echo stopped $(jobs -sp)");
        Terminal.Shows(l => l == $"stopped {Python}", "the shell at home to list its moved job stopped");
    }

    /// <summary>Writes <paramref name="script"/> into node 1's directory, starts an unmanaged bash at home on node 1 that
    /// runs it with `om run` in its foreground or background, waits for its "started MODE", runs
    /// <paramref name="beforeMove"/> (the terminal set up as the test needs) and moves the job to node 2.</summary>
    public static MovedShellJob Start(TestLab lab, string name, string script, string mode, bool background, Action<TmuxTerminal>? beforeMove = null)
    {
        var path = Path.Combine(lab.Layout.NodeDirectory(1), $"{name}-{Guid.NewGuid():N}.py");
        File.WriteAllText(path, script);
        var terminal = TmuxTerminal.Start($"{Om.Path} lab exec --name {lab.Name} 1 -- /bin/bash --norc --noprofile -i; echo EXITED $?; sleep 60");
        try
        {
            terminal.Type("PS1='ready> '");
            terminal.Shows(l => l == "ready>", "the shell's prompt");
            terminal.Type($"{Om.Path} run /usr/bin/python3 {path} {mode} {path}.go{(background ? " &" : "")}");
            // A background job's line may follow the prompt the shell printed meanwhile; a foreground job's is its own.
            terminal.Shows(l => background ? l.EndsWith($"started {mode}", StringComparison.Ordinal) : l == $"started {mode}", "the job to start");
            beforeMove?.Invoke(terminal);
            var python = lab.Processes(1).Processes.Single(p => p.Command.Contains(path, StringComparison.Ordinal)).Pid;
            lab.Migrate(1, python, "2");
            Assert.Equal("remote", lab.Processes(1).Processes.Single(p => p.Pid == python).State);
            return new MovedShellJob(lab, terminal, python, $"{path}.go");
        }
        catch
        {
            terminal.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _deputy.Dispose();
        Terminal.Dispose();
    }
}
