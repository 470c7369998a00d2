using System.Runtime.InteropServices;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;

namespace OpenMosix.Cli.Commands;

internal static class RestoreCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE")
        {
            Description = "The image file, or the directory of a process tree (om checkpoint --tree); `-` reads an image from standard input.",
        };
        var detach = new Option<bool>("--detach") { Description = "Print the new process's PID and return at once instead of waiting for it." };
        var json = new Option<bool>("--json")
        {
            Description = "With --detach: print the new process's PID and the one it had as JSON (without --detach the process's own output has stdout).",
        };
        var command = new Command("restore",
            "Rebuild a process from its image. Its terminal and pipe descriptors 0-2 become om's own; regular files are " +
            "reopened at their offsets. Waits for the process and exits with its status (128+N if killed by signal N).")
        {
            image, detach, json,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(json) && !parse.GetValue(detach))
                throw new UsageException("--json needs --detach: a process om waits for writes to om's stdout itself");
            return Run(parse, parse.GetRequiredValue(image), parse.GetValue(detach), json);
        });
        return command;
    }

    private static int Run(ParseResult parse, string path, bool detach, Option<bool> json)
    {
        using var loggers = CommandLine.Loggers(parse);
        using var engine = new CheckpointEngine(loggers);
        RestoredProcess restored;
        if (path != "-" && Directory.Exists(path))
        {
            restored = TreeRestore.Run(engine, path);
        }
        else if (path == "-")
        {
            // A stream can be read once: it is checked section by section as it is restored; on damage the
            // half-built process is discarded.
            using var stdin = Console.OpenStandardInput();
            using var reader = new ImageReader(stdin, leaveOpen: true);
            using var progress = TerminalProgress.OnTerminal("restore");
            restored = engine.Restore(reader, new RestoreOptions { BytesRestored = progress });
        }
        else
        {
            ImageVerifier.VerifyFile(path);
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            // Mapped: pages go from the page cache into the process, one copy (this process is the file's only user).
            using var reader = new ImageReader(file, mapFile: true);
            using var progress = TerminalProgress.OnTerminal("restore");
            restored = engine.Restore(reader, new RestoreOptions { BytesRestored = progress });
        }
        if (!restored.SamePidAsOriginal) Console.Error.WriteLine(PidChanged(restored));
        if (detach)
        {
            JsonOutput.Print(parse, json, new RestoredJson(restored.Pid, restored.OriginalPid), CliJsonContext.Default.RestoredJson,
                () => Console.WriteLine(restored.Pid));
            return 0;
        }
        using var forwarding = ForwardSignals(restored.Pid);
        return engine.WaitForExit(restored).ShellCode;
    }

    /// <summary>Why the process has a new PID: another process holds its old one, or asking for a PID needs privilege
    /// (CAP_CHECKPOINT_RESTORE, for ns_last_pid) that a normal user's om has not.</summary>
    private static string PidChanged(RestoredProcess restored) =>
        Signals.Exists(restored.OriginalPid) || Environment.IsPrivilegedProcess
            ? $"om: PID {restored.OriginalPid} is taken here; the process runs as PID {restored.Pid}"
            : $"om: PID {restored.OriginalPid} can only be asked for by root (CAP_CHECKPOINT_RESTORE); the process runs as PID {restored.Pid}";

    /// <summary>
    /// While om waits, it stands in for the restored process: a SIGTERM sent to om is passed on. Terminal signals
    /// (Ctrl-C, Ctrl-\, hangup) already reach the process, which shares om's process group, so om only stays alive
    /// for them to report how the process ended.
    /// </summary>
    private static CompositeDisposable ForwardSignals(int pid)
    {
        var registrations = new CompositeDisposable();
        registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            try
            {
                Signals.Kill(pid, Signals.SIGTERM);
            }
            catch (SyscallException)
            {
                // It has just exited; its status is on its way to the waiting thread.
            }
        }));
        foreach (var terminal in new[] { PosixSignal.SIGINT, PosixSignal.SIGQUIT, PosixSignal.SIGHUP })
            registrations.Add(PosixSignalRegistration.Create(terminal, context => context.Cancel = true));
        return registrations;
    }

    private sealed class CompositeDisposable : IDisposable
    {
        private readonly List<IDisposable> _items = [];
        public void Add(IDisposable item) => _items.Add(item);
        public void Dispose() => _items.ForEach(i => i.Dispose());
    }
}
