using System.Text;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>What a run of a program produced: its stdout, its shell-style exit status and the files it wrote.</summary>
internal sealed record ProgramOutcome(byte[] Stdout, int ExitStatus, IReadOnlyDictionary<string, byte[]> Files)
{
    /// <summary>Asserts this (checkpointed and restored) run produced exactly what the uninterrupted reference did.</summary>
    public void ShouldMatch(ProgramOutcome reference)
    {
        Assert.True(reference.Stdout.AsSpan().SequenceEqual(Stdout), DescribeDifference(reference.Stdout, Stdout));
        Assert.Equal(reference.ExitStatus, ExitStatus);
        Assert.Equal(reference.Files.Keys.Order(), Files.Keys.Order());
        foreach (var (name, expected) in reference.Files)
            Assert.True(expected.AsSpan().SequenceEqual(Files[name]),
                $"file {name} differs from the reference run ({Files[name].Length} bytes vs {expected.Length} expected, first difference at byte {FirstDifference(expected, Files[name])})");
    }

    private static string DescribeDifference(byte[] expected, byte[] actual)
    {
        var at = FirstDifference(expected, actual);
        var lineStart = Math.Max(0, expected.AsSpan(0, Math.Min(at, expected.Length)).LastIndexOf((byte)'\n') + 1);
        string Excerpt(byte[] bytes) => lineStart >= bytes.Length
            ? "<end of output>"
            : Encoding.UTF8.GetString(bytes, lineStart, Math.Min(160, bytes.Length - lineStart)).ReplaceLineEndings("⏎");
        return $"stdout differs from the reference run at byte {at} ({actual.Length} bytes vs {expected.Length} expected)\n" +
               $"  expected: {Excerpt(expected)}\n  actual:   {Excerpt(actual)}";
    }

    private static int FirstDifference(byte[] a, byte[] b) => a.AsSpan().CommonPrefixLength(b);
}
