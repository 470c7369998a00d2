using OpenMosix.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Home's watch over the readiness of a moved process's forwarded descriptors: whenever what one is ready for changes,
/// a notice goes to the copy's node, which shows it on the copy's placeholder (<see cref="ReadinessMirror"/>).
/// A descriptor becomes ready on its own (data or room arrives: one thread polls for what each is not yet known to
/// be ready for) and stops being ready through the copy's calls (checked after each, and noticed before its result,
/// so the copy never polls a placeholder that still shows what its last read took). A descriptor's check and its
/// notice are made under its lock, so its notices leave in the order of their checks and the last one is true.
/// </summary>
internal sealed class HomeReadiness : IDisposable
{
    private const int SliceMs = 500;
    private const short Final = ForwardedReadiness.HangUp | ForwardedReadiness.Error;

    private sealed class Watched(int key, SafeFileHandle fd)
    {
        public readonly int Key = key;
        public readonly SafeFileHandle Fd = fd;
        public readonly SemaphoreSlim Lock = new(1, 1);
        /// <summary>What the copy was last told; -1 before the first notice.</summary>
        public short Shown = -1;
    }

    private readonly Dictionary<int, Watched> _watched = [];
    private readonly Func<ForwardNotice, Task> _send;
    private readonly SafeFileHandle _wakeRead, _wakeWrite;
    private readonly Thread _thread;
    private volatile bool _stopped;

    public HomeReadiness(Func<ForwardNotice, Task> send, int pid)
    {
        _send = send;
        (_wakeRead, _wakeWrite) = Descriptors.CreatePipe();
        ForwardedCalls.Control(_wakeWrite, ForwardedCalls.FSetFl, (int)OpenFlags.WriteOnly | (int)OpenFlags.NonBlock);
        ForwardedCalls.Control(_wakeRead, ForwardedCalls.FSetFl, (int)OpenFlags.ReadOnly | (int)OpenFlags.NonBlock);
        _thread = new Thread(Watch) { IsBackground = true, Name = $"readiness for {pid}" };
        _thread.Start();
    }

    /// <summary>Watches <paramref name="fd"/>, known to the copy as <paramref name="key"/>; the copy is told its readiness now.</summary>
    public void Add(int key, SafeFileHandle fd)
    {
        var watched = new Watched(key, fd);
        lock (_watched) _watched[key] = watched;
        Check(watched).GetAwaiter().GetResult();
        Wake();
    }

    public void Remove(int key)
    {
        lock (_watched) _watched.Remove(key);
        Wake();
    }

    /// <summary>After a call on <paramref name="key"/>: tells the copy what it no longer is (or now is) ready for.</summary>
    public Task AfterCallAsync(int key)
    {
        Watched? watched;
        lock (_watched) _watched.TryGetValue(key, out watched);
        return watched is null ? Task.CompletedTask : Check(watched, wake: true);
    }

    private async Task Check(Watched watched, bool wake = false)
    {
        bool changed;
        await watched.Lock.WaitAsync().ConfigureAwait(false);
        try
        {
            var ready = ReadyNow(watched.Fd);
            changed = ready >= 0 && ready != watched.Shown;
            if (changed)
            {
                watched.Shown = ready;
                await _send(new ForwardNotice(watched.Key, ready)).ConfigureAwait(false);
            }
        }
        finally
        {
            watched.Lock.Release();
        }
        // The poll thread waits for what the copy does not know: that changed.
        if (changed && wake) Wake();
    }

    /// <summary>The descriptor's readiness, or -1 when it is closed (or no longer valid).</summary>
    private static short ReadyNow(SafeFileHandle fd)
    {
        if (!TryHold(fd)) return -1;
        try
        {
            var ready = ForwardedReadiness.Of(fd);
            return (ready & ForwardedReadiness.Invalid) != 0 ? (short)-1 : ready;
        }
        finally
        {
            fd.DangerousRelease();
        }
    }

    /// <summary>Keeps <paramref name="fd"/> from being closed (its number given to another file) while it is polled.</summary>
    private static bool TryHold(SafeFileHandle fd)
    {
        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
        }
        return added;
    }

    private void Wake()
    {
        try
        {
            ForwardedCalls.Write(_wakeWrite, [1]);
        }
        catch (ObjectDisposedException)
        {
            // The poll thread has ended: there is nothing left to wake.
        }
    }

    // The poll thread owns the wake pipe and closes it when it ends: Dispose cannot wait for it for ever (a loaded node
    // may not schedule it within the join's bound), and a pipe closed under its poll ended omd.
    private void Watch()
    {
        try
        {
            PollUntilStopped();
        }
        finally
        {
            _wakeRead.Dispose();
            _wakeWrite.Dispose();
        }
    }

    private void PollUntilStopped()
    {
        var entries = new List<PollFd>();
        var round = new List<Watched>();
        Span<byte> drain = stackalloc byte[64];
        while (!_stopped)
        {
            entries.Clear();
            round.Clear();
            entries.Add(new PollFd { Fd = (int)_wakeRead.DangerousGetHandle(), Events = ForwardedReadiness.In });
            lock (_watched)
            {
                foreach (var w in _watched.Values)
                {
                    // Wait only for what the copy does not know yet: what it knows stays so until its own calls.
                    var shown = w.Shown < 0 ? (short)0 : w.Shown;
                    if ((shown & Final) != 0) continue;
                    var wanted = (short)(~shown & (ForwardedReadiness.In | ForwardedReadiness.Out | ForwardedReadiness.ReadHangUp));
                    if (!TryHold(w.Fd)) continue;
                    round.Add(w);
                    entries.Add(new PollFd { Fd = (int)w.Fd.DangerousGetHandle(), Events = wanted });
                }
            }
            try
            {
                var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(entries);
                if (ForwardedReadiness.Wait(span, SliceMs) == 0) continue;
                if (span[0].ReturnedEvents != 0) while (ForwardedCalls.Read(_wakeRead, drain) > 0) { }
                for (var i = 1; i < span.Length; i++)
                    if (span[i].ReturnedEvents != 0) Check(round[i - 1]).GetAwaiter().GetResult();
            }
            finally
            {
                foreach (var w in round) w.Fd.DangerousRelease();
            }
        }
    }

    public void Dispose()
    {
        _stopped = true;
        Wake();
        if (Thread.CurrentThread != _thread) _thread.Join(SliceMs * 2);
    }
}
