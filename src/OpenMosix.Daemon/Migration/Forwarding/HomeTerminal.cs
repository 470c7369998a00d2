using System.Globalization;
using OpenMosix.Linux.Proc;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Home's job control for a moved program's reads of its terminal (GuestForwarder.Background.cs): whether home's
/// terminal has the deputy's group in its foreground, told to the copy's node when that changes (a notice, so that its
/// reads and writes in the foreground, and its writes in the background without TOSTOP, never cross the link), and, for
/// a read, write or change made in the background, what home's kernel would do: EIO when the reader ignores or blocks
/// SIGTTIN or the group is orphaned, else SIGTTIN (SIGTTOU) to the deputy's group.
/// </summary>
internal sealed class HomeTerminal : IDisposable
{
    private static readonly TimeSpan Watch = TimeSpan.FromMilliseconds(100);
    private readonly int _deputy;
    private readonly Func<ReadOnlyMemory<byte>, Task> _send;
    private readonly ILogger _logger;
    private readonly Timer? _timer;
    private readonly Lock _lock = new();
    // What the copy's node was last told: -1 before the first notice.
    private int _shown = -1;
    private volatile bool _stopped;

    public HomeTerminal(int deputy, Func<ReadOnlyMemory<byte>, Task> send, ILogger logger)
    {
        _deputy = deputy;
        _send = send;
        _logger = logger;
        // Only a deputy with a controlling terminal is watched: the copy's node hands over reads of a terminal only then.
        if (StatOf(deputy) is { } stat && stat.Number(7) != 0)
            _timer = new Timer(_ => Notice(), null, TimeSpan.Zero, Watch);
    }

    /// <summary>Whether the deputy's controlling terminal has another process group in its foreground (read from /proc:
    /// tcgetpgrp would answer only a process of the terminal's own session); null when it has none, or is gone.</summary>
    public static bool? InBackground(ProcStat? stat) =>
        stat is null || stat.Number(7) == 0 ? null : stat.TerminalForegroundGroup > 0 && stat.TerminalForegroundGroup != stat.ProcessGroup;

    /// <summary>Tells the copy's node where the deputy's group is, when that changed since it was last told.</summary>
    private void Notice()
    {
        var stat = StatOf(_deputy);
        if (_stopped || InBackground(stat) is not { } background) return;
        lock (_lock)
        {
            // In the background, whether TOSTOP is set too: `stty tostop` at home after the move must stop the job's
            // next write, and without it the copy's node lets writes from the background through without asking.
            var now = !background ? 0 : StopsBackgroundWrites(stat!) ? 1 : 2;
            if (now == _shown) return;
            _shown = now;
            // Sent under the lock, so that notices leave in the order their states were read.
            _send(ForwardWire.Encode(new ForwardNotice(ForwardWire.TerminalNotice, (short)now))).GetAwaiter().GetResult();
        }
    }

    /// <summary>A read, write or change of the copy's terminal while its node does not know it in the foreground:
    /// answered on a task of its own (an orphan check reads /proc).</summary>
    public void Take(ForwardRequest call) =>
        _ = Task.Run(async () =>
        {
            var answer = Answer(call.A0 != 0, (TerminalUse)call.A1);
            // The copy's node asks when it does not know where its job is (after each signal relayed to it): the next
            // watch tells it again, so that its writes in the background without TOSTOP stop asking.
            lock (_lock) _shown = -1;
            await _send(ForwardWire.Encode(new ForwardReply(call.Id, answer))).ConfigureAwait(false);
        });

    private long Answer(bool ignored, TerminalUse use)
    {
        var stat = StatOf(_deputy);
        if (InBackground(stat) is not true) return 0;
        // The kernel checks a write only where the terminal has TOSTOP (n_tty_write), and lets a write or a change by
        // a caller that ignores or blocks SIGTTOU through (tty_check_change); the copy's node asks only for writes
        // made while home's terminal had TOSTOP at the move: `stty -tostop` since lets them through.
        if (use == TerminalUse.Write && !StopsBackgroundWrites(stat!)) return GuestForwarder.BackgroundAllowed;
        if (ignored && use != TerminalUse.Read) return GuestForwarder.BackgroundAllowed;
        if ((ignored && use == TerminalUse.Read) || Orphaned(stat!.ProcessGroup, stat.Session)) return -(long)Errno.EIO;
        var signal = use == TerminalUse.Read ? Signals.SIGTTIN : Signals.SIGTTOU;
        try
        {
            Signals.Kill(-stat.ProcessGroup, signal);
            _logger.LogInformation("Process {Pid}: {Use} its terminal from home's background: {Signal} to its group {Group}", _deputy,
                use switch { TerminalUse.Read => "read", TerminalUse.Write => "wrote to", _ => "changed" }, signal == Signals.SIGTTIN ? "SIGTTIN" : "SIGTTOU",
                stat.ProcessGroup);
            return 1;
        }
        catch (Exception e) when (e is SyscallException or ProcessAccessException)
        {
            return -(long)Errno.EIO;
        }
    }

    /// <summary>Whether home's terminal, the deputy's controlling terminal, has TOSTOP now: read through a descriptor of
    /// the deputy's that is that terminal; true when none can be read (the copy's node asks only where it had TOSTOP).</summary>
    private bool StopsBackgroundWrites(ProcStat stat)
    {
        try
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(ProcFs.Path(_deputy, "fd")))
            {
                if (!FileStatus.TryOf(entry, out var status, out _) || status is not { Type: FileType.CharacterDevice } || status.RawDevice != (ulong)stat.Number(7))
                    continue;
                using var terminal = Descriptors.Open(entry, OpenFlags.ReadOnly | OpenFlags.NoControllingTerminal | OpenFlags.NonBlock | OpenFlags.CloseOnExec);
                if (Terminal.ReadModes(terminal) is { } modes) return Terminal.StopsBackgroundWrites(modes);
            }
        }
        catch (Exception e) when (e is SyscallException or IOException or UnauthorizedAccessException)
        {
            // The deputy is gone, or its terminal with it: the kernel's answer is the copy's node's assumption.
        }
        return true;
    }

    /// <summary>
    /// Whether process group <paramref name="group"/> is orphaned, as the kernel decides (no member has a parent in
    /// another group of the same session): the kernel gives such a group's background reads EIO instead of a SIGTTIN
    /// nobody would continue it from.
    /// </summary>
    private static bool Orphaned(int group, int session)
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (StatOf(pid) is not { } member || member.ProcessGroup != group) continue;
            if (StatOf(member.PPid) is { } parent && parent.ProcessGroup != group && parent.Session == session) return false;
        }
        return true;
    }

    private static ProcStat? StatOf(int pid)
    {
        try
        {
            return pid > 0 ? ProcFs.ReadStat(pid) : null;
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _stopped = true;
        _timer?.Dispose();
    }
}
