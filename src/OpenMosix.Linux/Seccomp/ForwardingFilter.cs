using System.Buffers.Binary;

namespace OpenMosix.Linux.Seccomp;

/// <summary>
/// The seccomp filter that hands a moved process's calls on forwarded descriptors to omd: SECCOMP_RET_USER_NOTIF for
/// the calls in <see cref="Calls"/> whose first argument is a forwarded number, or any number at or above the reserved
/// range (descriptors forwarded later, an accepted connection) that is a descriptor number at all (not negative:
/// AT_FDCWD, -100, is 0xffffff9c to the filter, and a stat of a path is the node's own), and SECCOMP_RET_ALLOW for
/// everything else, so local descriptors and paths run at full speed. Its first instruction loads a marker constant (no effect on the verdict) by which
/// omd knows its own filter among a process's filters: it is never part of the process's image.
/// </summary>
public static class ForwardingFilter
{
    /// <summary>"OMFW": loaded into the accumulator first, overwritten by the next load.</summary>
    public const uint Marker = 0x4f4d4657;
    public const int MaxForwarded = 200;

    /// <summary>x86_64 calls whose first argument is a descriptor and that omd carries out at home.</summary>
    public static readonly int[] Calls =
    [
        SyscallNr.Read, SyscallNr.Write, SyscallNr.Close, SyscallNr.Fstat, SyscallNr.Lseek, SyscallNr.Pread64, SyscallNr.Pwrite64,
        SyscallNr.Readv, SyscallNr.Writev, SyscallNr.Fcntl, SyscallNr.Newfstatat,
        SyscallNr.Accept, SyscallNr.Accept4, SyscallNr.Sendto, SyscallNr.Recvfrom, SyscallNr.Sendmsg, SyscallNr.Recvmsg,
        SyscallNr.Shutdown, SyscallNr.Getsockname, SyscallNr.Getpeername, SyscallNr.Setsockopt, SyscallNr.Getsockopt,
        SyscallNr.Ioctl, SyscallNr.Dup, SyscallNr.Dup2, SyscallNr.Dup3, SyscallNr.Getdents64,
        SyscallNr.Connect, SyscallNr.Bind, SyscallNr.Listen,
    ];

    /// <summary>The address families whose sockets a copy makes at home when the filter is built with socket calls:
    /// AF_INET and AF_INET6 (docs/forwarding.md, sockets created away). Every other family is the node's, and its
    /// socket call never reaches omd.</summary>
    public static readonly int[] HomeSocketFamilies = [2, 10];

    /// <summary>x86_64 calls handed to omd whatever their arguments: those about the process's children and parent,
    /// which stay at home with the deputy (omd lets the kernel run those that concern the node it runs on).</summary>
    public static readonly int[] ChildCalls =
        [SyscallNr.Wait4, SyscallNr.Waitid, SyscallNr.Kill, SyscallNr.Tgkill, SyscallNr.RtSigqueueinfo, SyscallNr.Getppid];

    /// <summary>x86_64 calls that name a path, handed to omd whatever their arguments when the process has home paths
    /// (files only home has, docs/forwarding.md): omd decides by the path, and lets the kernel run every other.</summary>
    public static readonly int[] PathCalls =
    [
        SyscallNr.Open, SyscallNr.Stat, SyscallNr.Lstat, SyscallNr.Access, SyscallNr.Readlink, SyscallNr.Openat, SyscallNr.Newfstatat,
        SyscallNr.Readlinkat, SyscallNr.Faccessat, SyscallNr.Faccessat2, SyscallNr.Statx, SyscallNr.Openat2,
    ];

    /// <summary>ioctl's request that sets a terminal's foreground process group (tcsetpgrp), handed to omd whatever the
    /// descriptor when the filter is built with terminal groups: a moved shell names its group by the number it had at
    /// home, which omd turns into its number on the node it runs on.</summary>
    public const uint SetForegroundGroup = 0x5410; // TIOCSPGRP

    /// <summary>The ioctl requests the kernel lets a process make on its controlling terminal from the background only
    /// after tty_check_change (SIGTTOU to its group, unless it ignores or blocks that signal): tcsetpgrp, the tcsetattr
    /// family, tcflow, tcflush, tcdrain and the break requests, and a line discipline's change. Handed to omd with
    /// terminal groups, for home's job control (docs/forwarding.md).</summary>
    public static readonly uint[] TerminalChanges =
    [
        SetForegroundGroup, 0x5402, 0x5403, 0x5404, // TCSETS, TCSETSW, TCSETSF
        0x5406, 0x5407, 0x5408, // TCSETA, TCSETAW, TCSETAF
        0x5409, 0x540A, 0x540B, 0x5425, // TCSBRK (tcdrain), TCXONC (tcflow), TCFLSH (tcflush), TCSBRKP
        0x5423, 0x5427, 0x5428, // TIOCSETD, TIOCSBRK, TIOCCBRK
        0x402C542B, 0x402C542C, 0x402C542D, // TCSETS2, TCSETSW2, TCSETSF2
    ];

    /// <summary>Those of <see cref="ChildCalls"/> that send a signal to the process their first argument names: sent by
    /// the process to itself (raise, pthread_kill), the kernel runs them without asking omd.</summary>
    public static readonly int[] SignalCalls = [SyscallNr.Kill, SyscallNr.Tgkill, SyscallNr.RtSigqueueinfo];

    private const ushort LdWAbs = 0x20, LdImm = 0x00, JeqK = 0x15, JgeK = 0x35, Ja = 0x05, RetK = 0x06;
    private const uint AuditArchX8664 = 0xc000003e, X32Bit = 0x40000000;
    private const uint RetAllow = 0x7fff0000, RetUserNotif = 0x7fc00000, NegativeInt = 0x80000000;
    private const int OffsetNr = 0, OffsetArch = 4, OffsetArg0 = 16, OffsetArg1 = 24, OffsetArg2 = 32;

    /// <summary>SIGTSTP, SIGTTIN, SIGTTOU: sent by the process to itself, they still reach omd (see <see cref="Build"/>).</summary>
    public static readonly int[] TerminalStops = [20, 21, 22];

    /// <summary>
    /// The program (8-byte sock_filter instructions) for <paramref name="forwarded"/> descriptor numbers and, when
    /// <paramref name="reservedFrom"/> is positive, every number from it up; with <paramref name="childCalls"/> also
    /// every call of <see cref="ChildCalls"/>, except a signal the process sends itself when <paramref name="ownPid"/>
    /// (its PID as it sees it) is positive: such a call never waits for omd, nor for home while omd holds the calls;
    /// but a terminal stop it sends itself (<see cref="TerminalStops"/>: kill's and rt_sigqueueinfo's second argument,
    /// tgkill's third) does reach omd, which has it made at home, where the process's group is not orphaned.
    /// With <paramref name="pathCalls"/> also every call of <see cref="PathCalls"/>: each open and stat of the process
    /// then costs a notification (docs/forwarding.md), which is why only a process with home paths gets them. With
    /// <paramref name="terminalGroups"/> also every ioctl <see cref="SetForegroundGroup"/> (a shell's, once per job).
    /// With <paramref name="socketCalls"/> also socket of the <see cref="HomeSocketFamilies"/> (its first argument).
    /// With <paramref name="terminalReads"/> also read and readv on those numbers (the process's terminal): omd lets
    /// them run while home's terminal has the process in its foreground, and stops the process with SIGTTIN (or
    /// answers EIO) while it does not, as home's kernel would. With <paramref name="terminalWrites"/> write and writev
    /// on those numbers too, for SIGTTOU where home's terminal has TOSTOP when the write is made. With terminal groups
    /// every ioctl of <see cref="TerminalChanges"/>, whatever the descriptor.
    /// </summary>
    public static byte[] Build(IReadOnlyCollection<int> forwarded, int reservedFrom = 0, bool childCalls = false, int ownPid = 0, bool pathCalls = false,
        bool terminalGroups = false, IReadOnlyCollection<int>? terminalReads = null, bool socketCalls = false, bool terminalWrites = false)
    {
        ArgumentNullException.ThrowIfNull(forwarded);
        if (forwarded.Count > MaxForwarded) throw new ArgumentException($"at most {MaxForwarded} forwarded descriptors, not {forwarded.Count}", nameof(forwarded));
        if (forwarded.Any(fd => fd < 0)) throw new ArgumentException("a descriptor number is negative", nameof(forwarded));
        var program = new List<(ushort Code, byte Jt, byte Jf, uint K)>
        {
            (LdImm, 0, 0, Marker),
            (LdWAbs, 0, 0, OffsetArch),
        };
        // Layout after the two loads: arch check, nr load, x32 check, one jeq per call, [one jeq per child call],
        // [jeq socket], allow, notify, [the process's signal to itself: arg0 load, jeq own PID, nr load, jeq tgkill, arg1
        // load, ja, arg2 load, one jeq per terminal stop, allow, notify], [arg0 load, one jeq per home family, allow,
        // notify], [arg1 load, one jeq per terminal change, ja fd checks, notify], [arg0 load, one jeq per terminal fd, ja
        // fd checks, notify], arg0 load, one jeq per fd, [jge reserved, jge negative], allow, notify. Each section ends in
        // its own verdicts, so no jump spans another section's list: a jump spans at most 255 instructions, and only the
        // fd list is long (MaxForwarded fits with every kind of call). With terminal groups ioctl's jeq goes to the arg1
        // load (not a terminal change: on to the fd checks); with terminal reads read's and readv's (and write's and
        // writev's with terminal writes) go to the terminal fds' load (none of them: on to the fd checks).
        var fds = forwarded.Distinct().Order().ToList();
        var terminalFds = (terminalReads ?? []).Where(fd => fd >= 0 && !fds.Contains(fd)).Distinct().Order().ToList();
        if (terminalFds.Count > 8) throw new ArgumentException($"at most 8 terminal descriptors, not {terminalFds.Count}", nameof(terminalReads));
        int[] always = [.. childCalls ? ChildCalls : [], .. pathCalls ? PathCalls : []];
        var fdCalls = Calls.Except(always).ToArray();
        var toSelf = childCalls && ownPid > 0;
        var callCount = fdCalls.Length + always.Length + (socketCalls ? 1 : 0);
        // index i (from the arch check at 0) jumps to t with offset t - i - 1
        var allowCallsAt = 3 + callCount;
        var notifyCallsAt = allowCallsAt + 1;
        var checkSelfAt = notifyCallsAt + 1; // its arg0 load, when the process's signals to itself are looked at
        var selfNotifyAt = checkSelfAt + 8 + TerminalStops.Length; // after its own allow
        var checkFamilyAt = checkSelfAt + (toSelf ? 9 + TerminalStops.Length : 0); // socket's arg0 load, when there is one
        var familyNotifyAt = checkFamilyAt + 1 + HomeSocketFamilies.Length + 1;
        var checkRequestAt = checkFamilyAt + (socketCalls ? 3 + HomeSocketFamilies.Length : 0); // the arg1 load, when there is one
        var requestNotifyAt = checkRequestAt + 2 + TerminalChanges.Length;
        var checkTerminalAt = checkRequestAt + (terminalGroups ? 3 + TerminalChanges.Length : 0); // the terminal fds' arg0 load, if any
        var terminalNotifyAt = checkTerminalAt + 2 + terminalFds.Count;
        var checkFdAt = checkTerminalAt + (terminalFds.Count > 0 ? 3 + terminalFds.Count : 0); // the fds' arg0 load
        var allowAt = checkFdAt + 1 + fds.Count + (reservedFrom > 0 ? 2 : 0);
        var notifyAt = allowAt + 1;
        program.Add((JeqK, 0, Offset(0, allowCallsAt), AuditArchX8664));
        program.Add((LdWAbs, 0, 0, OffsetNr));
        program.Add((JgeK, Offset(2, allowCallsAt), 0, X32Bit));
        for (var c = 0; c < fdCalls.Length; c++)
        {
            var to = terminalGroups && fdCalls[c] == SyscallNr.Ioctl ? checkRequestAt
                : terminalFds.Count > 0 && (fdCalls[c] is SyscallNr.Read or SyscallNr.Readv || (terminalWrites && fdCalls[c] is SyscallNr.Write or SyscallNr.Writev))
                    ? checkTerminalAt
                : checkFdAt;
            program.Add((JeqK, Offset(3 + c, to), 0, (uint)fdCalls[c]));
        }
        for (var c = 0; c < always.Length; c++)
            program.Add((JeqK, Offset(3 + fdCalls.Length + c, toSelf && SignalCalls.Contains(always[c]) ? checkSelfAt : notifyCallsAt), 0, (uint)always[c]));
        if (socketCalls) program.Add((JeqK, Offset(3 + callCount - 1, checkFamilyAt), 0, (uint)SyscallNr.Socket));
        program.Add((RetK, 0, 0, RetAllow));
        program.Add((RetK, 0, 0, RetUserNotif));
        if (toSelf)
        {
            program.Add((LdWAbs, 0, 0, OffsetArg0));
            program.Add((JeqK, 0, Offset(checkSelfAt + 1, selfNotifyAt), (uint)ownPid));
            // To itself: the signal's number is tgkill's third argument, the second of kill and rt_sigqueueinfo.
            program.Add((LdWAbs, 0, 0, OffsetNr));
            program.Add((JeqK, 2, 0, (uint)SyscallNr.Tgkill));
            program.Add((LdWAbs, 0, 0, OffsetArg1));
            program.Add((Ja, 0, 0, 1));
            program.Add((LdWAbs, 0, 0, OffsetArg2));
            for (var t = 0; t < TerminalStops.Length; t++)
            {
                var at = checkSelfAt + 7 + t;
                program.Add((JeqK, Offset(at, selfNotifyAt), 0, (uint)TerminalStops[t]));
            }
            program.Add((RetK, 0, 0, RetAllow));
            program.Add((RetK, 0, 0, RetUserNotif));
        }
        if (socketCalls)
        {
            program.Add((LdWAbs, 0, 0, OffsetArg0));
            for (var f = 0; f < HomeSocketFamilies.Length; f++)
                program.Add((JeqK, Offset(checkFamilyAt + 1 + f, familyNotifyAt), 0, (uint)HomeSocketFamilies[f]));
            program.Add((RetK, 0, 0, RetAllow));
            program.Add((RetK, 0, 0, RetUserNotif));
        }
        if (terminalGroups)
        {
            program.Add((LdWAbs, 0, 0, OffsetArg1));
            for (var r = 0; r < TerminalChanges.Length; r++) program.Add((JeqK, Offset(checkRequestAt + 1 + r, requestNotifyAt), 0, TerminalChanges[r]));
            program.Add((Ja, 0, 0, (uint)(checkFdAt - (checkRequestAt + 1 + TerminalChanges.Length) - 1)));
            program.Add((RetK, 0, 0, RetUserNotif));
        }
        if (terminalFds.Count > 0)
        {
            program.Add((LdWAbs, 0, 0, OffsetArg0));
            for (var t = 0; t < terminalFds.Count; t++) program.Add((JeqK, Offset(checkTerminalAt + 1 + t, terminalNotifyAt), 0, (uint)terminalFds[t]));
            program.Add((Ja, 0, 0, 1));
            program.Add((RetK, 0, 0, RetUserNotif));
        }
        program.Add((LdWAbs, 0, 0, OffsetArg0));
        for (var f = 0; f < fds.Count; f++) program.Add((JeqK, Offset(checkFdAt + 1 + f, notifyAt), 0, (uint)fds[f]));
        if (reservedFrom > 0)
        {
            program.Add((JgeK, 0, Offset(checkFdAt + 1 + fds.Count, allowAt), (uint)reservedFrom));
            program.Add((JgeK, Offset(checkFdAt + 2 + fds.Count, allowAt), Offset(checkFdAt + 2 + fds.Count, notifyAt), NegativeInt));
        }
        program.Add((RetK, 0, 0, RetAllow));
        program.Add((RetK, 0, 0, RetUserNotif));
        if (program.Count - 2 != notifyAt + 1) throw new InvalidOperationException($"filter layout of {program.Count - 2} instructions, not {notifyAt + 1}");
        var bytes = new byte[program.Count * 8];
        for (var i = 0; i < program.Count; i++)
        {
            var (code, jt, jf, k) = program[i];
            var at = bytes.AsSpan(i * 8);
            BinaryPrimitives.WriteUInt16LittleEndian(at, code);
            at[2] = jt;
            at[3] = jf;
            BinaryPrimitives.WriteUInt32LittleEndian(at[4..], k);
        }
        return bytes;
    }

    private static byte Offset(int from, int to)
    {
        var offset = to - from - 1;
        if (offset is < 0 or > 255) throw new InvalidOperationException($"seccomp jump of {offset} instructions");
        return (byte)offset;
    }

    /// <summary>Whether <paramref name="program"/> is a filter made by <see cref="Build"/>.</summary>
    public static bool IsForwardingFilter(ReadOnlySpan<byte> program) =>
        program.Length >= 8 && BinaryPrimitives.ReadUInt16LittleEndian(program) == LdImm && BinaryPrimitives.ReadUInt32LittleEndian(program[4..]) == Marker;
}
