using System.Buffers.Binary;
using System.IO.Hashing;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Tests.Format;

/// <summary>Version 3 carries each thread's privileges; older images, and privileges the kernel could not have made, are refused.</summary>
public sealed class PrivilegeImageTests
{
    [Theory]
    [InlineData(1u, "from before threads were saved")]
    [InlineData(2u, "from before privilege limits were saved")]
    public void An_image_from_before_privileges_were_saved_is_refused_with_take_the_checkpoint_again(uint version, string expected)
    {
        var bytes = SampleImages.Write(SampleImages.Metadata(), SampleImages.Runs());
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), version);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), XxHash64.HashToUInt64(bytes.AsSpan(0, 24)));

        var e = Assert.Throws<CorruptImageException>(() => SampleImages.Read(new MemoryStream(bytes)));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.EndsWith("take the checkpoint again", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Capabilities_securebits_no_new_privs_seccomp_filters_and_dumpable_travel_unchanged()
    {
        var image = WithPrivileges(new Privileges
        {
            Effective = 0x21, Permitted = 0x421, Inheritable = 0x20, Ambient = 0x20, Bounding = 0x1fffeffffff, Securebits = 0x41,
            NoNewPrivs = true, SeccompFilters = [new SeccompFilter(new byte[7 * 8], Log: true), new SeccompFilter(new byte[8], Log: false)],
        });

        var read = SampleImages.Read(new MemoryStream(SampleImages.Write(image, SampleImages.Runs()))).Image;

        var p = read.MainThread.Privileges;
        Assert.Equal((0x21UL, 0x421UL, 0x20UL, 0x20UL, 0x1fffeffffffUL, 0x41, true), (p.Effective, p.Permitted, p.Inheritable, p.Ambient, p.Bounding, p.Securebits, p.NoNewPrivs));
        Assert.Equal([(56, true), (8, false)], p.SeccompFilters.Select(f => (f.Program.Length, f.Log)));
        Assert.Equal(0, read.Attributes.Dumpable);
    }

    [Theory]
    [InlineData(0x1UL, 0x0UL, 0x0UL, 0, 8, "effective capabilities outside its permitted set")]
    [InlineData(0x0UL, 0x0UL, 0x1UL, 0, 8, "ambient capabilities outside its permitted and inheritable sets")]
    [InlineData(0x0UL, 0x0UL, 0x0UL, 0x10000, 8, "unknown securebits")]
    [InlineData(0x0UL, 0x0UL, 0x0UL, 0, 12, "a seccomp filter of 12 bytes")]
    [InlineData(0x0UL, 0x0UL, 0x0UL, 0, 4097 * 8, "a seccomp filter of 32776 bytes")]
    public void Privileges_the_kernel_could_not_have_made_are_refused(ulong effective, ulong permitted, ulong ambient, int securebits, int filterBytes, string expected)
    {
        var image = WithPrivileges(new Privileges
        {
            Effective = effective, Permitted = permitted, Ambient = ambient, Securebits = securebits,
            SeccompFilters = [new SeccompFilter(new byte[filterBytes], Log: false)],
        });

        var e = Assert.Throws<CorruptImageException>(() => SampleImages.Read(new MemoryStream(SampleImages.Write(image, SampleImages.Runs()))));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    private static ProcessImage WithPrivileges(Privileges privileges)
    {
        var image = SampleImages.Metadata();
        return new ProcessImage
        {
            Origin = image.Origin, Cpu = image.Cpu, Signals = image.Signals, Attributes = image.Attributes, Timers = image.Timers,
            Regions = image.Regions, Files = image.Files, Threads = image.Threads,
            MainThread = new ThreadSettings { Privileges = privileges },
        };
    }
}
