using OpenMosix.Checkpoint.Dump;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// Each thread's credentials and privileges, set from inside it, in the only order that ends exactly at the image's:
/// while the thread still holds the restorer's capabilities it keeps them across the change of ids (SECBIT_KEEP_CAPS)
/// when the image holds any, gets its ids, raises its ambient set, drops its bounding set, sets its securebits, lowers
/// its capability sets to the image's, and sets no_new_privs. Every step can only take privilege away from what the
/// restorer had; the result is read back from /proc and a thread that differs fails the restore.
/// </summary>
internal sealed partial class ProcessBuilder
{
    private const int SecbitKeepCaps = 1 << 4;
    private const uint CapabilityVersion3 = 0x20080522;

    /// <summary>One thread's ids, then its privileges (both belong to each thread).</summary>
    /// <param name="securebits">its securebits when known without asking it (a thread cloned from one whose bits were
    /// read, untouched since): one injected call less per thread.</param>
    private void DropTo(SyscallInjector inThread, int tid, Privileges want, int? securebits = null)
    {
        var c = image.Attributes.Credentials;
        var ids = ProcessInspector.ReadCredentials(ProcStatus.Parse(ProcFs.ReadText(pid, $"task/{tid}/status")));
        var bits = securebits ?? Securebits(inThread);
        // Leaving uid 0 empties the permitted set unless SECBIT_KEEP_CAPS: a non-root image with capabilities keeps
        // the restorer's for the steps below, which then lower them to its own.
        var leavesRoot = (ids.Uid == 0 || ids.EffectiveUid == 0 || ids.SavedUid == 0) && c.Uid != 0 && c.EffectiveUid != 0 && c.SavedUid != 0;
        if (leavesRoot && want.Permitted != 0 && (bits & SecbitKeepCaps) == 0)
        {
            bits |= SecbitKeepCaps;
            inThread.Call("prctl(PR_SET_SECUREBITS, KEEP_CAPS)", Prctl, PrSetSecurebits, bits);
        }
        if (!SameIds(ids, c))
        {
            SetGroups(inThread, c);
            inThread.Call("setresgid", Setresgid, c.Gid, c.EffectiveGid, c.SavedGid);
            inThread.Call("setresuid", Setresuid, c.Uid, c.EffectiveUid, c.SavedUid);
        }
        var now = TaskPrivileges.Read(pid, tid);
        var needsSetpcap = (now.Bounding & ~want.Bounding) != 0 || bits != want.Securebits;
        // The ambient raise needs each capability permitted and inheritable; the bounding drop and securebits need
        // CAP_SETPCAP effective: everything permitted is made effective for them, then lowered.
        if ((needsSetpcap || now.Ambient != want.Ambient) && (now.Effective != now.Permitted || now.Inheritable != want.Inheritable))
            SetCapabilities(inThread, now.Permitted, now.Permitted, want.Inheritable);
        if (now.Ambient != want.Ambient)
        {
            inThread.Call("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", Prctl, PrCapAmbient, PrCapAmbientClearAll, 0, 0, 0);
            foreach (var cap in Bits(want.Ambient))
                inThread.Call($"prctl(PR_CAP_AMBIENT_RAISE, {cap})", Prctl, PrCapAmbient, PrCapAmbientRaise, cap, 0, 0);
        }
        foreach (var cap in Bits(now.Bounding & ~want.Bounding))
            inThread.Call($"prctl(PR_CAPBSET_DROP, {cap})", Prctl, PrCapbsetDrop, cap);
        if (bits != want.Securebits) inThread.Call("prctl(PR_SET_SECUREBITS)", Prctl, PrSetSecurebits, want.Securebits);
        now = TaskPrivileges.Read(pid, tid);
        if (now.Effective != want.Effective || now.Permitted != want.Permitted || now.Inheritable != want.Inheritable)
            SetCapabilities(inThread, want.Effective, want.Permitted, want.Inheritable);
        if (want.NoNewPrivs && !now.NoNewPrivs) inThread.Call("prctl(PR_SET_NO_NEW_PRIVS)", Prctl, PrSetNoNewPrivs, 1, 0, 0, 0);
        Verify(tid, want, TaskPrivileges.Read(pid, tid));
    }

    /// <summary>The securebits of the thread <paramref name="inThread"/> drives (they have no /proc view).</summary>
    private static int Securebits(SyscallInjector inThread) => (int)inThread.Call("prctl(PR_GET_SECUREBITS)", Prctl, PrGetSecurebits);

    private static bool SameIds(Credentials now, Credentials c) =>
        now.Uid == c.Uid && now.EffectiveUid == c.EffectiveUid && now.SavedUid == c.SavedUid
        && now.Gid == c.Gid && now.EffectiveGid == c.EffectiveGid && now.SavedGid == c.SavedGid
        && now.FilesystemUid == c.EffectiveUid && now.FilesystemGid == c.EffectiveGid && now.Groups.SequenceEqual(c.Groups);

    /// <summary>capset(2) with the version 3 header: two 32-bit halves of each set.</summary>
    private void SetCapabilities(SyscallInjector inThread, ulong effective, ulong permitted, ulong inheritable)
    {
        Span<byte> args = stackalloc byte[8 + 24];
        BinaryPrimitives.WriteUInt32LittleEndian(args, CapabilityVersion3);
        for (var half = 0; half < 2; half++)
        {
            var at = args[(8 + half * 12)..];
            var shift = 32 * half;
            BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)(effective >> shift));
            BinaryPrimitives.WriteUInt32LittleEndian(at[4..], (uint)(permitted >> shift));
            BinaryPrimitives.WriteUInt32LittleEndian(at[8..], (uint)(inheritable >> shift));
        }
        var header = Put(args);
        inThread.Call("capset", Capset, (long)header, (long)header + 8);
    }

    /// <summary>What the kernel reports of the thread now must be the image's: a restore never ends looser, nor silently stricter.</summary>
    private void Verify(int tid, Privileges want, TaskPrivileges got)
    {
        // Only the capabilities this kernel knows show in /proc: the image came from the same kernel build.
        var known = TaskPrivileges.KnownCapabilities();
        if (got.Effective != want.Effective || got.Permitted != want.Permitted || got.Inheritable != want.Inheritable
            || got.Ambient != want.Ambient || got.Bounding != (want.Bounding & known) || got.NoNewPrivs != want.NoNewPrivs)
            throw new RestoreException($"thread {tid} could not be given the image's privileges: it has capabilities eff {got.Effective:x} prm {got.Permitted:x} inh {got.Inheritable:x} amb {got.Ambient:x} bnd {got.Bounding:x} no_new_privs {(got.NoNewPrivs ? 1 : 0)}, the image eff {want.Effective:x} prm {want.Permitted:x} inh {want.Inheritable:x} amb {want.Ambient:x} bnd {want.Bounding:x} no_new_privs {(want.NoNewPrivs ? 1 : 0)}");
    }

    private static IEnumerable<int> Bits(ulong set)
    {
        for (var bit = 0; bit < 64; bit++)
            if ((set & (1UL << bit)) != 0) yield return bit;
    }

    /// <summary>
    /// The seccomp filters, the last thing each thread gets. A thread holds the filters it already has here (a
    /// deputy's, inherited by the threads cloned from it), which must begin the image's; the rest are installed. When
    /// every thread wants the same, the main thread installs them for all at once (TSYNC), so they share one filter
    /// tree as threads that installed them so did; otherwise each thread installs its own.
    /// </summary>
    public void RestoreSeccomp(IReadOnlyList<RestoredThread> threads)
    {
        var all = threads.Select(t => (t.Injector, t.Tid, Want: t.Image.Settings.Privileges.SeccompFilters))
            .Append((Injector: injector, Tid: pid, Want: image.MainThread.Privileges.SeccompFilters)).ToList();
        var missing = all.Select(t => (t.Injector, t.Tid, Missing: MissingFilters(t.Tid, t.Want))).ToList();
        if (missing.All(t => t.Missing.Count == 0)) return;
        if (threads.Count > 0 && missing.All(t => SameFilters(t.Missing, missing[^1].Missing)) && all.All(t => SameFilters(t.Want, all[^1].Want)))
        {
            foreach (var filter in missing[^1].Missing) InstallFilter(injector, pid, filter, SeccompFilterFlagTsync);
            return;
        }
        foreach (var (inThread, tid, wanted) in missing)
            foreach (var filter in wanted) InstallFilter(inThread, tid, filter, 0);
    }

    /// <summary>The filters of <paramref name="want"/> the thread does not run under yet.</summary>
    private List<SeccompFilter> MissingFilters(int tid, List<SeccompFilter> want)
    {
        var have = TaskPrivileges.Read(pid, tid).SeccompMode == 2 ? Ptrace.GetSeccompFilters(tid) : [];
        if (!Begins(have, want))
            throw new RestoreException($"thread {tid} already runs under {have.Count} seccomp filters here that do not begin the image's {want.Count}");
        return want[have.Count..];
    }

    /// <summary>Whether the filters a thread runs under here are the first of <paramref name="want"/>.</summary>
    internal static bool Begins(List<SeccompProgram> have, List<SeccompFilter> want) =>
        have.Count <= want.Count && have.Select((f, i) => f.Log == want[i].Log && f.Instructions.AsSpan().SequenceEqual(want[i].Program)).All(same => same);

    private static bool SameFilters(List<SeccompFilter> a, List<SeccompFilter> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Log == p.Second.Log && p.First.Program.AsSpan().SequenceEqual(p.Second.Program));

    private void InstallFilter(SyscallInjector inThread, int tid, SeccompFilter filter, long flags)
    {
        var at = PutFilterProgram(filter.Program);
        var result = inThread.Raw(SyscallNumbers.Seccomp, SeccompSetModeFilter, flags | (filter.Log ? SeccompFilterFlagLog : 0), (long)at);
        if (result > 0) throw new RestoreException($"seccomp filter for all threads: thread {result} runs under other filters");
        if (result < 0) throw new RestoreException($"seccomp filter of thread {tid} cannot be installed: {Errno.FromNegated(result).Describe()}");
    }
}
