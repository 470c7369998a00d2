using OpenMosix.Linux;

namespace OpenMosix.Bench.Checkpoint;

/// <summary>A running touchmem process holding exactly <see cref="MiB"/> MiB of touched, incompressible memory.</summary>
internal sealed class BenchTarget : IDisposable
{
    private readonly string _log;

    private BenchTarget(int pid, int mib, string log, ulong address)
    {
        Pid = pid;
        MiB = mib;
        _log = log;
        Address = address;
    }

    public int Pid { get; }
    public int MiB { get; }
    public ulong TouchedBytes => (ulong)MiB << 20;
    /// <summary>Where the touched bytes start in the target (touchmem prints it).</summary>
    public ulong Address { get; }

    /// <param name="threads">threads in all (1: the main thread alone); the others idle in pause() or spin when <paramref name="busy"/>.</param>
    public static BenchTarget Start(string program, int mib, string scratch, int threads = 1, bool busy = false)
    {
        var log = Path.Combine(scratch, $"touchmem-{mib}-{threads}-{Environment.ProcessId}.out");
        using (var output = File.Create(log)) { }
        using var handle = File.OpenHandle(log, FileMode.Open, FileAccess.Write);
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        var pid = ProcessSpawner.Spawn(new SpawnRequest(program, [program, mib.ToString(invariant), threads.ToString(invariant), busy ? "busy" : "idle"])
        {
            Descriptors = new Dictionary<int, int> { [1] = (int)handle.DangerousGetHandle(), [2] = 2 },
        });
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (File.ReadAllText(log) is var text && !(text.StartsWith("ready", StringComparison.Ordinal) && text.EndsWith('\n')))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"touchmem {mib} did not get ready");
            Thread.Sleep(20);
        }
        var address = File.ReadAllText(log).Split(' ', StringSplitOptions.TrimEntries)[2];
        return new BenchTarget(pid, mib, log, Convert.ToUInt64(address, 16));
    }

    /// <summary>How much of the target's memory is in transparent huge pages (the floor reads the same pages, so the
    /// same state; printed so that a machine with THP "always" is seen to differ from one with "madvise").</summary>
    public ulong AnonHugeBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/smaps_rollup"))
        {
            if (!line.StartsWith("AnonHugePages:", StringComparison.Ordinal)) continue;
            var kib = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            return ulong.Parse(kib, System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }

    public void Dispose()
    {
        try
        {
            Signals.Kill(Pid, Signals.SIGKILL);
            Waiting.WaitPid(Pid, Waiting.WALL);
        }
        catch (SyscallException)
        {
            // Already gone (a dump with Kill, or it died): nothing to reap.
        }
        File.Delete(_log);
    }
}
