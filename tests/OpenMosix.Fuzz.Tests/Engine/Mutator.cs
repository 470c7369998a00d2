using System.Buffers.Binary;
using System.Text;

namespace OpenMosix.Fuzz.Tests.Engine;

/// <summary>
/// Byte-level mutations in the manner of AFL's havoc stage: bit flips, byte sets, interesting integers written at a
/// random offset in either byte order (length and count fields are where parsers go wrong), truncation, deletion,
/// insertion, repetition, splicing with another input and, for text formats, tokens from a dictionary. Everything
/// comes from one <see cref="Random"/>, so a seed replays the same sequence of inputs.
/// </summary>
public sealed class Mutator(Random random, IReadOnlyList<byte[]> dictionary)
{
    /// <summary>Values at the edges of every integer width: where bounds checks and arithmetic break.</summary>
    private static readonly long[] Interesting =
    [
        0, 1, -1, 2, 7, 8, 15, 16, 31, 32, 63, 64, 100, 127, 128, 255, 256, 511, 512, 1000, 1023, 1024, 4095, 4096, 4097,
        32767, 32768, 65535, 65536, 1 << 20, (1 << 20) + 1, 1 << 24, (16 << 20) + 16, 64 << 20, int.MaxValue, int.MinValue,
        uint.MaxValue, long.MaxValue, long.MinValue, 0x0000_8000_0000_0000, -4096, short.MinValue, sbyte.MinValue,
    ];

    public Random Random => random;

    /// <summary>A copy of <paramref name="input"/> with one to eight stacked mutations.</summary>
    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> others)
    {
        var data = new List<byte>(input);
        var rounds = 1 << random.Next(4);
        for (var i = 0; i < rounds; i++) MutateOnce(data, others);
        return [.. data];
    }

    private void MutateOnce(List<byte> data, IReadOnlyList<byte[]> others)
    {
        switch (random.Next(dictionary.Count > 0 ? 12 : 10))
        {
            case 0 when data.Count > 0:
                data[Offset(data)] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when data.Count > 0:
                data[Offset(data)] = (byte)random.Next(256);
                break;
            case 2:
                WriteInteger(data, Interesting[random.Next(Interesting.Length)]);
                break;
            case 3 when data.Count > 0:
                // Small arithmetic on a byte: off-by-one in counts and lengths.
                data[Offset(data)] += (byte)(random.Next(1, 36) * (random.Next(2) == 0 ? 1 : -1));
                break;
            case 4 when data.Count > 0:
                var keep = random.Next(data.Count);
                data.RemoveRange(keep, data.Count - keep);
                break;
            case 5 when data.Count > 1:
                var start = random.Next(data.Count);
                data.RemoveRange(start, random.Next(1, Math.Min(data.Count - start, 256) + 1));
                break;
            case 6:
                var bytes = new byte[random.Next(1, 32)];
                random.NextBytes(bytes);
                data.InsertRange(random.Next(data.Count + 1), bytes);
                break;
            case 7 when data.Count > 0:
                Repeat(data);
                break;
            case 8 when others.Count > 0:
                Splice(data, others[random.Next(others.Count)]);
                break;
            case 9 when data.Count > 0:
                // A run of one byte value over a stretch: zeroed or 0xff-filled fields.
                var at = random.Next(data.Count);
                var value = random.Next(2) == 0 ? (byte)0 : (byte)0xff;
                for (var i = at; i < Math.Min(data.Count, at + random.Next(1, 64)); i++) data[i] = value;
                break;
            case 10 or 11:
                var token = dictionary[random.Next(dictionary.Count)];
                if (random.Next(2) == 0 || data.Count < token.Length) data.InsertRange(random.Next(data.Count + 1), token);
                else
                {
                    var over = random.Next(data.Count - token.Length + 1);
                    for (var i = 0; i < token.Length; i++) data[over + i] = token[i];
                }
                break;
            default:
                if (data.Count > 0) data[Offset(data)] ^= 0xff;
                break;
        }
    }

    private int Offset(List<byte> data) => random.Next(data.Count);

    private void WriteInteger(List<byte> data, long value)
    {
        var width = 1 << random.Next(4);
        Span<byte> bytes = stackalloc byte[8];
        if (random.Next(2) == 0) BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        else
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes, value);
            bytes = bytes[(8 - width)..];
        }
        if (data.Count < width)
        {
            data.AddRange(bytes[..width].ToArray());
            return;
        }
        var at = random.Next(data.Count - width + 1);
        for (var i = 0; i < width; i++) data[at + i] = bytes[i];
    }

    private void Repeat(List<byte> data)
    {
        var start = random.Next(data.Count);
        var length = random.Next(1, Math.Min(data.Count - start, 512) + 1);
        var chunk = data.GetRange(start, length);
        var times = random.Next(1, 17);
        for (var i = 0; i < times; i++) data.InsertRange(start, chunk);
    }

    private void Splice(List<byte> data, byte[] other)
    {
        if (other.Length == 0) return;
        var cut = random.Next(data.Count + 1);
        var from = random.Next(other.Length);
        data.RemoveRange(cut, data.Count - cut);
        data.AddRange(other.AsSpan(from, random.Next(other.Length - from + 1)).ToArray());
    }

    /// <summary>Dictionary entries for a text format: each string as UTF-8.</summary>
    public static byte[][] Tokens(params string[] tokens) => [.. tokens.Select(Encoding.UTF8.GetBytes)];
}
