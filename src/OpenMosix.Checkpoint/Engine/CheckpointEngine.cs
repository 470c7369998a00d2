using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Checkpoint.Tracing;
using OpenMosix.Linux;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// Checkpoint and restore of single-threaded processes, from outside, with ptrace. Owns the tracer thread: every
/// ptrace request and waitpid for a tracee runs there. Processes kept frozen stay seized until the engine is
/// disposed, which lets them run on.
/// </summary>
public sealed class CheckpointEngine : IDisposable
{
    private readonly TracerThread _tracer = new();
    private readonly ILogger _logger;
    private readonly Dumper _dumper;
    private readonly Restorer _restorer;
    private readonly HashSet<int> _frozen = [];
    private bool _disposed;

    public CheckpointEngine(ILoggerFactory? loggers = null)
    {
        var factory = loggers ?? NullLoggerFactory.Instance;
        _logger = factory.CreateLogger<CheckpointEngine>();
        _dumper = new Dumper(factory.CreateLogger<Dumper>());
        _restorer = new Restorer(factory.CreateLogger<Restorer>());
    }

    /// <summary>Restores fill anonymous memory with UFFDIO_COPY where possible; off forces process_vm_writev (tests).</summary>
    internal bool FillPagesWithUserFaults
    {
        get => _restorer.FillWithUserFaults;
        set => _restorer.FillWithUserFaults = value;
    }

    /// <summary>Why the process cannot be moved, found from /proc without touching it.</summary>
    public CantMoveReport AnalyzeCantMove(int pid)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return CantMoveAnalyzer.Analyze(pid);
    }

    /// <summary>
    /// Writes the image of <paramref name="pid"/> to <paramref name="sink"/>. Refuses with
    /// <see cref="CantMoveException"/> before touching the process; on any later failure the process resumes as if
    /// nothing happened (unless it is already gone) and the error is rethrown.
    /// </summary>
    public DumpResult Checkpoint(int pid, IImageSink sink, DumpOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        var report = CantMoveAnalyzer.Analyze(pid);
        if (!report.CanMove) throw new CantMoveException(report);
        return _tracer.Run(() => _dumper.Dump(pid, sink, options, frozen => _frozen.Add(frozen)));
    }

    /// <summary>Rebuilds the process of an image as a new process (with its original PID when that is free).</summary>
    public RestoredProcess Restore(IImageSource source, RestoreOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        return _tracer.Run(() => _restorer.Restore(source, options));
    }

    /// <summary>Waits for a restored process (a child of this process) to end, and reaps it.</summary>
    public ExitStatus WaitForExit(RestoredProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        var status = Waiting.WaitPid(process.Pid, Waiting.WALL);
        return status.Exited ? new ExitStatus(status.ExitCode, 0) : new ExitStatus(0, status.TermSignal);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _tracer.Run(() =>
        {
            foreach (var pid in _frozen)
            {
                try
                {
                    Ptrace.Detach(pid);
                }
                catch (SyscallException e)
                {
                    _logger.LogWarning("Could not let frozen process {Pid} run on: {Error}", pid, e.Message);
                }
            }
            _frozen.Clear();
        });
        _tracer.Dispose();
    }
}
