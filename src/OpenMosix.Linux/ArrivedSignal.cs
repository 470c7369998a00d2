namespace OpenMosix.Linux;

/// <summary>
/// A signal as its receiver got it: its number, and whether a process sent it (kill, sigqueue, tgkill: a siginfo code
/// of SI_USER or below) rather than the kernel (a terminal's ^C, ^\ and ^Z, its resize, a hangup: SI_KERNEL). Where a
/// signal lands on a moved process's node depends on it: a terminal's goes to the terminal's foreground group there,
/// a process's to the process it named.
/// </summary>
public readonly record struct ArrivedSignal(int Number, bool FromProcess = false)
{
    /// <summary>si_code is the third int of a siginfo; codes of zero and below are the sending process's (SI_FROMUSER).</summary>
    public static ArrivedSignal FromSigInfo(ReadOnlySpan<byte> sigInfo) =>
        new(BitConverter.ToInt32(sigInfo), BitConverter.ToInt32(sigInfo[8..]) <= 0);
}
