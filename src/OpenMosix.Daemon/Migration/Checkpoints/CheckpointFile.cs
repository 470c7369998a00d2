using System.Buffers.Binary;
using System.IO.Hashing;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Checkpoints;

/// <summary>
/// The counts a stored checkpoint was taken with: at its freeze, the bytes the process had written to each relayed
/// output and the bytes of input it had read, this stay.
/// </summary>
public sealed record CheckpointRecord(int Pid, long Sequence, IReadOnlyList<OutputCount> Outputs, long InputRead);

/// <summary>
/// One process's checkpoint on disk: a pre-copy round (its layout and every page of its tracked memory, deltas merged
/// in), then the final image of the last checkpoint (registers, threads, descriptors, the regions not tracked), then a
/// trailer: the record, both images' lengths, a checksum of the trailer and a magic. Both images carry their own
/// checksums (image-format.md); the trailer's says the file ends where it was written to end. Written under a
/// temporary name, flushed to the disk and renamed over the old one, so a file cut in the middle never replaces a
/// good one.
/// </summary>
public static class CheckpointFile
{
    private static readonly byte[] Magic = "OMXCKPT1"u8.ToArray();
    private const int MaxOutputs = 1024;
    private const int FixedTrailer = 4 + 8 + 8 + 8 + 8 + 8 + 4;
    private const int Tail = 4 + 8 + 8; // trailer length, its XxHash64, magic

    /// <summary>Writes <paramref name="path"/> whole or not at all (mode 0600): <paramref name="writeRound"/> and
    /// <paramref name="writeFinal"/> write the two images.</summary>
    public static void WriteAtomically(string path, CheckpointRecord record, Action<Stream> writeRound, Action<Stream> writeFinal)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(writeRound);
        ArgumentNullException.ThrowIfNull(writeFinal);
        Config.PrivateFile.Replace(path, file =>
        {
            var behind = new CacheBehindStream(file);
            writeRound(behind);
            var roundLength = file.Position;
            writeFinal(behind);
            var finalLength = file.Position - roundLength;
            behind.Write(Trailer(record, roundLength, finalLength));
            behind.DropBehind();
        });
    }

    /// <summary>The record and where the two images lie in <paramref name="file"/>; a file that is cut, too short or
    /// damaged in its trailer is a <see cref="CorruptCheckpointException"/>.</summary>
    public static (CheckpointRecord Record, long RoundLength, long FinalLength) ReadTrailer(FileStream file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Length < Tail + FixedTrailer) throw new CorruptCheckpointException($"{file.Name} is too short to be a checkpoint");
        Span<byte> tail = stackalloc byte[Tail];
        file.Position = file.Length - Tail;
        file.ReadExactly(tail);
        if (!tail[12..].SequenceEqual(Magic)) throw new CorruptCheckpointException($"{file.Name} does not end like a checkpoint (cut short?)");
        var length = BinaryPrimitives.ReadInt32LittleEndian(tail);
        if (length < FixedTrailer || length > FixedTrailer + MaxOutputs * 12 || length > file.Length - Tail)
            throw new CorruptCheckpointException($"{file.Name} has a trailer of an impossible length");
        var trailer = new byte[length];
        file.Position = file.Length - Tail - length;
        file.ReadExactly(trailer);
        if (XxHash64.HashToUInt64(trailer) != BinaryPrimitives.ReadUInt64LittleEndian(tail[4..]))
            throw new CorruptCheckpointException($"{file.Name} has a damaged trailer");
        var (record, round, final) = Parse(trailer);
        if (round < 0 || final <= 0 || round + final != file.Length - Tail - length)
            throw new CorruptCheckpointException($"{file.Name}: its images do not fill it as its trailer says");
        return (record, round, final);
    }

    private static byte[] Trailer(CheckpointRecord record, long roundLength, long finalLength)
    {
        if (record.Outputs.Count > MaxOutputs) throw new ArgumentException($"more than {MaxOutputs} outputs", nameof(record));
        var body = new byte[FixedTrailer + record.Outputs.Count * 12];
        var span = body.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(span, record.Pid);
        BinaryPrimitives.WriteInt64LittleEndian(span[4..], record.Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(span[12..], record.InputRead);
        BinaryPrimitives.WriteInt64LittleEndian(span[20..], roundLength);
        BinaryPrimitives.WriteInt64LittleEndian(span[28..], finalLength);
        BinaryPrimitives.WriteInt64LittleEndian(span[36..], 0); // reserved
        BinaryPrimitives.WriteInt32LittleEndian(span[44..], record.Outputs.Count);
        for (var i = 0; i < record.Outputs.Count; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[(FixedTrailer + i * 12)..], record.Outputs[i].Fd);
            BinaryPrimitives.WriteInt64LittleEndian(span[(FixedTrailer + i * 12 + 4)..], record.Outputs[i].Bytes);
        }
        var tail = new byte[Tail];
        BinaryPrimitives.WriteInt32LittleEndian(tail, body.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(tail.AsSpan(4), XxHash64.HashToUInt64(body));
        Magic.CopyTo(tail, 12);
        return [.. body, .. tail];
    }

    private static (CheckpointRecord, long, long) Parse(ReadOnlySpan<byte> body)
    {
        var count = BinaryPrimitives.ReadInt32LittleEndian(body[44..]);
        if (count < 0 || count > MaxOutputs || body.Length != FixedTrailer + count * 12)
            throw new CorruptCheckpointException("a checkpoint's trailer lists an impossible number of outputs");
        var outputs = new List<OutputCount>(count);
        for (var i = 0; i < count; i++)
            outputs.Add(new OutputCount(BinaryPrimitives.ReadInt32LittleEndian(body[(FixedTrailer + i * 12)..]),
                BinaryPrimitives.ReadInt64LittleEndian(body[(FixedTrailer + i * 12 + 4)..])));
        var record = new CheckpointRecord(BinaryPrimitives.ReadInt32LittleEndian(body), BinaryPrimitives.ReadInt64LittleEndian(body[4..]),
            outputs, BinaryPrimitives.ReadInt64LittleEndian(body[12..]));
        if (record.Pid <= 0 || record.Sequence <= 0 || record.InputRead < 0 || outputs.Any(o => o.Bytes < 0))
            throw new CorruptCheckpointException("a checkpoint's trailer holds counts out of range");
        return (record, BinaryPrimitives.ReadInt64LittleEndian(body[20..]), BinaryPrimitives.ReadInt64LittleEndian(body[28..]));
    }
}

/// <summary>A stored checkpoint cannot be used: cut short, damaged, or not one at all.</summary>
public sealed class CorruptCheckpointException(string message) : Exception(message);
