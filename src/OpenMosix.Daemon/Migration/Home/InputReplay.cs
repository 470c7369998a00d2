using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// A copy resumed on a new link after its node's omd died: the input this omd relayed to the dead one past what that
/// omd wrote into the copy's stdin (its queue, and what was on the way) is in the ledger; it is sent again, in order,
/// before the pump reads on from the deputy's stdin.
/// </summary>
internal static class InputReplay
{
    private const int Chunk = 65536;

    public static Task ThenPump(InputLedger ledger, long from, SafeFileHandle stdin, int deputy, NodeLink link, ILogger logger, CancellationToken cancel) =>
        Task.Run(async () =>
        {
            try
            {
                await SendAgainAsync(ledger, from, deputy, link, logger, cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is LinkException or OperationCanceledException or ObjectDisposedException)
            {
                return; // the new relay ended too: the next one sends it again from its own count
            }
            await InputPump.Start(stdin, deputy, link, ledger, cancel).ConfigureAwait(false);
        }, CancellationToken.None);

    private static async Task SendAgainAsync(InputLedger ledger, long from, int deputy, NodeLink link, ILogger logger, CancellationToken cancel)
    {
        byte[] again;
        try
        {
            again = ledger.From(from);
        }
        catch (InvalidOperationException e)
        {
            HomeLog.InputNotSentAgain(logger, deputy, from, e.Message);
            return;
        }
        // The window counts from what the copy's stdin holds now.
        ledger.Delivered(from);
        if (again.Length == 0) return;
        HomeLog.InputSentAgain(logger, deputy, again.Length, from);
        for (var at = 0; at < again.Length; at += Chunk)
        {
            var length = Math.Min(Chunk, again.Length - at);
            var frame = new byte[length + 1];
            again.AsSpan(at, length).CopyTo(frame.AsSpan(1));
            await link.SendAsync(FrameType.Stdio, frame, cancel).ConfigureAwait(false);
        }
    }
}
