using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// On the target, one pipe per descriptor of the image that was a pipe at home: the guest gets one end under the
/// original number, omd keeps the other and relays it over the link. Descriptor 0 is input (omd writes what home
/// reads from the original stdin); every other one is output (omd reads what the guest writes). Descriptors that
/// were a terminal all get the slave of one pseudo-terminal with the home terminal's size and modes, so the program
/// still sees a terminal (isatty, line buffering); omd relays its master.
/// </summary>
public sealed class RelayPipes(byte[]? terminalModes = null, byte[]? terminalSize = null) : IDisposable
{
    private readonly List<SafeFileHandle> _guestEnds = [];

    public SafeFileHandle? Input { get; private set; }
    /// <summary>Whether <see cref="Input"/> is the pseudo-terminal's master rather than a pipe.</summary>
    public bool InputIsTerminal { get; private set; }
    public Dictionary<int, SafeFileHandle> Outputs { get; } = [];
    /// <summary>The output descriptor that is the pseudo-terminal's master (in packet mode), if the guest has one.</summary>
    public int? TerminalOutput { get; private set; }
    /// <summary>The pseudo-terminal's master, to set its size and modes (owned by <see cref="Outputs"/>).</summary>
    public SafeFileHandle? TerminalMaster => TerminalOutput is { } fd ? Outputs[fd] : null;

    /// <summary>omd's own open of the slave whose master is <see cref="Input"/>: it keeps the slave's input queue past
    /// the copy's exit, so that what the copy left unread can go back to home's terminal (<see cref="TakeUnreadInput"/>).
    /// Held, it also keeps the master from reading EIO, which is how the terminal's pump ends: it is let go of when the
    /// copy ends (<see cref="ReleaseTerminalPeer"/>).</summary>
    private SafeFileHandle? _terminalPeer;

    /// <summary>Creates the pipes for <paramref name="image"/>; returns image fd → the guest's end, for the restorer.</summary>
    public IReadOnlyDictionary<int, int> Create(ProcessImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var inherited = new Dictionary<int, int>();
        if (image.Files.Any(f => f.Kind == FileKind.Terminal))
        {
            var (master, slave) = Terminal.OpenPseudoTerminal(terminalModes, terminalSize);
            _guestEnds.Add(slave);
            var terminalFds = image.Files.Where(f => f.Kind == FileKind.Terminal).Select(f => f.Fd).Order().ToList();
            foreach (var fd in terminalFds) inherited[fd] = (int)slave.DangerousGetHandle();
            if (terminalFds.Contains(0))
            {
                Input = Descriptors.Duplicate(master);
                InputIsTerminal = true;
                _terminalPeer = TerminalInput.OpenPeer(master);
            }
            var output = terminalFds.FirstOrDefault(fd => fd != 0, -1);
            if (output >= 0)
            {
                Outputs[output] = master;
                TerminalOutput = output;
            }
            else
            {
                master.Dispose();
            }
        }
        foreach (var file in image.Files.Where(f => f.Kind is FileKind.Pipe))
        {
            var (read, write) = Descriptors.CreatePipe();
            if (file.Fd == 0)
            {
                Input = write;
                _guestEnds.Add(read);
                inherited[file.Fd] = (int)read.DangerousGetHandle();
            }
            else
            {
                // The size of a frame: what the copy writes while its pump sends the last read goes home in one
                // frame, not in pieces of the default 64 KiB with a wakeup, a read and a frame each.
                Descriptors.TryResizePipe(read, NodeLink.MaxPayload);
                Outputs[file.Fd] = read;
                _guestEnds.Add(write);
                inherited[file.Fd] = (int)write.DangerousGetHandle();
            }
        }
        return inherited;
    }

    /// <summary>The pipes of a guest adopted from a dead omd: its ends as the guest's keeper held them.</summary>
    public static RelayPipes Adopted(SafeFileHandle? input, bool inputIsTerminal, IReadOnlyDictionary<int, SafeFileHandle> outputs, int? terminalOutput)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var pipes = new RelayPipes { Input = input, InputIsTerminal = inputIsTerminal, TerminalOutput = terminalOutput };
        foreach (var (fd, output) in outputs) pipes.Outputs[fd] = output;
        return pipes;
    }

    /// <summary>What is queued unread in the copy's terminal (it ended), taken out; then the slave is let go of.</summary>
    public byte[] TakeUnreadInput()
    {
        try
        {
            return _terminalPeer is { } peer ? TerminalInput.Drain(peer) : [];
        }
        finally
        {
            ReleaseTerminalPeer();
        }
    }

    /// <summary>Whether the copy's terminal holds input it has not read (poll of omd's own open of the slave, which makes
    /// the kernel take in what the master wrote first); null when it cannot be told (no terminal input, or let go of).</summary>
    public bool? TerminalInputQueued()
    {
        if (_terminalPeer is not { IsClosed: false } peer) return null;
        try
        {
            return Readiness.WaitReadable(peer, TimeSpan.Zero);
        }
        catch (Exception e) when (e is SyscallException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>Throws away what the copy's terminal holds unread (home's terminal made ^C a signal and threw its own
    /// away); false when it cannot (no terminal input, or the slave already let go of).</summary>
    public bool FlushTerminalInput()
    {
        if (_terminalPeer is not { IsClosed: false } peer) return false;
        try
        {
            TerminalInput.Flush(peer);
            return true;
        }
        catch (Exception e) when (e is SyscallException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Lets go of omd's open of the slave, so the terminal's pump reads EIO once the copy's are closed too.</summary>
    public void ReleaseTerminalPeer()
    {
        _terminalPeer?.Dispose();
        _terminalPeer = null;
    }

    /// <summary>Once the guest holds its ends, omd closes its copies, so that the guest's exit ends the outputs.</summary>
    public void CloseGuestEnds()
    {
        foreach (var end in _guestEnds) end.Dispose();
        _guestEnds.Clear();
    }

    public void Dispose()
    {
        ReleaseTerminalPeer();
        CloseGuestEnds();
        Input?.Dispose();
        foreach (var output in Outputs.Values) output.Dispose();
    }
}
