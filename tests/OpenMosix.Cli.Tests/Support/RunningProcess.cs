using System.Diagnostics;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>
/// A child of the test with stdin, stdout and stderr as pipes and no other inherited descriptors. Output is pumped into memory as it arrives unless the
/// test asked to read stdout itself (to leave a pipe full on purpose). Disposing kills and reaps whatever is left.
/// </summary>
internal sealed class RunningProcess : IDisposable
{
    private readonly Process process;
    private readonly OutputPump? stdout;
    private readonly OutputPump stderr;

    private RunningProcess(Process process, bool pumpStdout)
    {
        this.process = process;
        stdout = pumpStdout ? new OutputPump(process.StandardOutput.BaseStream) : null;
        stderr = new OutputPump(process.StandardError.BaseStream);
    }

    public int Pid => process.Id;

    public Stream Stdin => process.StandardInput.BaseStream;

    /// <summary>The raw stdout pipe, for tests that started the process with pumpStdout: false.</summary>
    public Stream StdoutPipe => process.StandardOutput.BaseStream;

    public bool HasExited => process.HasExited;

    public long StdoutLength => Pumped.Length;

    public int StdoutLines => Pumped.Lines;

    public byte[] StdoutBytes => Pumped.Snapshot();

    public string StdoutText => Pumped.Text;

    public string StderrText => stderr.Text;

    private OutputPump Pumped => stdout ?? throw new InvalidOperationException("stdout is read by the test, not pumped");

    public static RunningProcess Start(ProcessSpec spec, bool pumpStdout = true)
    {
        // Through cleanexec: descriptors the test runner leaked without close-on-exec would make every target unmovable.
        var info = new ProcessStartInfo(TestPaths.Program("cleanexec"))
        {
            WorkingDirectory = spec.WorkingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(spec.FileName);
        foreach (var argument in spec.Arguments) info.ArgumentList.Add(argument);
        info.Environment["LC_ALL"] = "C";
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {spec}");
        var running = new RunningProcess(process, pumpStdout);
        if (spec.Stdin is { } input)
        {
            running.Stdin.Write(input);
            running.CloseStdin();
        }
        return running;
    }

    public void CloseStdin() => process.StandardInput.Close();

    public Task WaitForStdoutAsync(long bytes, TimeSpan timeout) =>
        Wait.UntilAsync(() => StdoutLength >= bytes || (HasExited && stdout!.Finished), timeout, $"pid {Pid} printed {bytes} bytes");

    public Task WaitForStdoutLinesAsync(int lines, TimeSpan timeout) =>
        Wait.UntilAsync(() => Pumped.Lines >= lines || (HasExited && stdout!.Finished), timeout, $"pid {Pid} printed {lines} lines");

    /// <summary>
    /// Waits for the exit and, unless <paramref name="untilOutputEnds"/> is false, for the end of its output (which
    /// a process it handed its pipes to may keep open); returns the shell-style status (128+N for signal N).
    /// </summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, bool untilOutputEnds = true)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(timeout);
        return await WaitAsync(limit.Token, untilOutputEnds, () => $"within {timeout.TotalSeconds:0} s");
    }

    /// <summary>
    /// Waits for the exit and the end of the output of a program that computes: as long as it (or a descendant) uses
    /// or waits for a CPU, at most <paramref name="idle"/> without, ten times that in all (<see cref="CpuProgressBound"/>).
    /// A wall-clock bound taken from a quiet machine fails a run that a machine at load 100 only makes slow.
    /// </summary>
    public async Task<int> WaitForExitWhileItRunsAsync(TimeSpan idle)
    {
        var bound = new CpuProgressBound(Pid, idle);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var waiting = WaitAsync(limit.Token, untilOutputEnds: true, bound.ToString);
        while (!waiting.IsCompleted)
        {
            if (!bound.Holds()) await limit.CancelAsync();
            await Task.WhenAny(waiting, Task.Delay(100, TestContext.Current.CancellationToken));
        }
        return await waiting;
    }

    private async Task<int> WaitAsync(CancellationToken token, bool untilOutputEnds, Func<string> bound)
    {
        try
        {
            await process.WaitForExitAsync(token);
            if (untilOutputEnds)
            {
                if (stdout is not null) await stdout.Completion.WaitAsync(token);
                await stderr.Completion.WaitAsync(token);
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"pid {Pid} did not finish {bound()}; stderr: {StderrText}");
        }
        return process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }
}
