using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// A small process per guest (`om guest-keeper`, a session of its own) that holds omd's ends of the copy's stdio
/// pipes and its forwarding listener as descriptors 3, 4, … in the order given, so that they outlive an omd killed
/// without a drain: the copy then neither dies of SIGPIPE nor has its filtered calls fail, and the next omd takes them
/// from the keeper (pidfd_getfd). When its omd ends, the keeper stops the copy (SIGSTOP: it can do nothing that a
/// restart of it elsewhere would repeat) and waits the takeover window; a new omd that takes the guest over kills it
/// and starts its own; one that never comes leaves the copy killed by the keeper when the window closes.
/// </summary>
public sealed class GuestKeeper
{
    /// <summary>The hidden command that runs a keeper.</summary>
    public const string Command = "guest-keeper";

    /// <summary>The first descriptor number a keeper holds.</summary>
    public const int FirstFd = 3;

    private GuestKeeper(int pid) => Pid = pid;

    public int Pid { get; }

    /// <summary>Starts a keeper of <paramref name="held"/> (they become its descriptors 3, 4, …) for the copy
    /// <paramref name="copyPid"/>, from the om binary <paramref name="omPath"/>.</summary>
    public static GuestKeeper Start(string omPath, int copyPid, IReadOnlyList<SafeFileHandle> held, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(held);
        using var devNull = Descriptors.Open("/dev/null", OpenFlags.ReadWrite);
        var descriptors = new Dictionary<int, int>
        {
            [0] = (int)devNull.DangerousGetHandle(),
            [1] = (int)devNull.DangerousGetHandle(),
            [2] = (int)devNull.DangerousGetHandle(),
        };
        for (var i = 0; i < held.Count; i++) descriptors[FirstFd + i] = (int)held[i].DangerousGetHandle();
        var pid = ProcessSpawner.Spawn(new SpawnRequest(omPath, ["om", Command, $"{copyPid}", $"{Environment.ProcessId}", $"{(long)window.TotalMilliseconds}"])
        {
            Descriptors = descriptors,
            NewSession = true,
            WorkingDirectory = "/",
        });
        return new GuestKeeper(pid);
    }

    /// <summary>A keeper a dead omd started (now init's child); <see cref="End"/> only kills it.</summary>
    public static GuestKeeper Of(int pid) => new(pid);

    /// <summary>Duplicates the keeper's descriptor <paramref name="index"/> (its 3 + index) into this process.</summary>
    internal static SafeFileHandle Take(PidFd keeper, int index)
    {
        ArgumentNullException.ThrowIfNull(keeper);
        return keeper.GetFd(FirstFd + index);
    }

    /// <summary>The guest's stay here is over (or another keeper holds its ends now): the keeper goes, reaped if ours.</summary>
    public void End()
    {
        try
        {
            Signals.Kill(Pid, Signals.SIGKILL);
        }
        catch (ProcessAccessException)
        {
            return;
        }
        try
        {
            // Our child unless a dead omd started it; waited for by its own PID only, never beside the tracer's waits.
            Waiting.WaitPid(Pid, 0);
        }
        catch (SyscallException)
        {
            // Not our child: init reaps it.
        }
    }

    /// <summary>The keeper's own life, in the `om guest-keeper COPY OMD WINDOW_MS` process: waits for omd to end, then
    /// stops the copy, waits the window, and kills it. Returns the exit code.</summary>
    public static int Run(int copyPid, int omdPid, TimeSpan window)
    {
        PidFd? copy = null;
        try
        {
            copy = PidFd.Open(copyPid);
        }
        catch (ProcessAccessException)
        {
            // Ended already: its output may still wait in the pipes held here for the next omd.
        }
        using (copy)
        {
            WaitForEnd(omdPid);
            Signal(copy, Signals.SIGSTOP);
            Thread.Sleep(window);
            Signal(copy, Signals.SIGKILL);
        }
        return 0;
    }

    private static void WaitForEnd(int omdPid)
    {
        PidFd omd;
        try
        {
            omd = PidFd.Open(omdPid);
        }
        catch (Exception e) when (e is ProcessAccessException or SyscallException)
        {
            return;
        }
        using (omd)
        {
            // Gone before the pidfd was opened: this process was handed to init (or the PID is another's now).
            if (OpenMosix.Linux.Proc.ProcFs.ReadStat(Environment.ProcessId).PPid != omdPid) return;
            using var watched = new SafeFileHandle(omd.DangerousGetHandle(), ownsHandle: false);
            while (!Readiness.WaitReadable(watched, TimeSpan.FromSeconds(60)))
            {
                // A pidfd turns readable when its process has ended.
            }
        }
    }

    private static void Signal(PidFd? copy, int signal)
    {
        try
        {
            copy?.SendSignal(signal);
        }
        catch (SyscallException)
        {
            // It ended: nothing to stop or kill.
        }
    }
}
