using System.Diagnostics;
using System.Runtime.InteropServices;
using OpenMosix.Linux;

namespace OpenMosix.Bench.Checkpoint;

/// <summary>
/// The least any checkpoint or restore of these bytes can cost on this machine: copying them out of the target
/// with process_vm_readv, and writing them with plain write(2) calls.
/// </summary>
internal static unsafe class Floors
{
    private const int Chunk = 16 << 20;

    /// <summary>One buffer, faulted in once, so that the floors never pay for page faults of their own.</summary>
    private static readonly byte* Buffer = AllocateTouched();

    private static byte* AllocateTouched()
    {
        var buffer = (byte*)NativeMemory.AlignedAlloc(Chunk, 4096);
        new Span<byte>(buffer, Chunk).Fill(1);
        return buffer;
    }

    /// <summary>Reads every touched byte of the target with process_vm_readv, 16 MiB per call.</summary>
    public static TimeSpan RawRead(BenchTarget target)
    {
        var watch = Stopwatch.StartNew();
        ForEachChunk(target, Buffer, static (_, _) => { });
        return watch.Elapsed;
    }

    /// <summary>Writes the same bytes to <paramref name="path"/> in 16 MiB writes; only the writes are timed.</summary>
    public static TimeSpan RawWrite(BenchTarget target, string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        var writing = new Stopwatch();
        ForEachChunk(target, Buffer, (data, length) =>
        {
            writing.Start();
            file.Write(new ReadOnlySpan<byte>(data, length));
            writing.Stop();
        });
        return writing.Elapsed;
    }

    private delegate void ChunkAction(byte* data, int length);

    private static void ForEachChunk(BenchTarget target, byte* buffer, ChunkAction action)
    {
        var start = target.Address;
        for (var offset = 0UL; offset < target.TouchedBytes; offset += Chunk)
        {
            var length = (int)Math.Min(Chunk, target.TouchedBytes - offset);
            ProcessMemory.Read(target.Pid, start + offset, new Span<byte>(buffer, length));
            action(buffer, length);
        }
    }
}
