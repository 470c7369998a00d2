namespace OpenMosix.Checkpoint.Format;

/// <summary>
/// Layout of an openMosix.NET process image (all integers little-endian):
/// <code>
/// file header   magic "OMXIMAGE" | u32 version | u32 flags | u64 reserved | u64 xxhash64(previous 24 bytes)
/// section       u32 type | u32 codec | u32 raw length | u32 stored length | u64 xxhash3(payload) | u64 xxhash64(previous 24 bytes)
///               payload (stored length bytes)
/// sections      Metadata (JSON of ProcessImage), then any number of Pages, then End; nothing after End.
///               A pre-copy round has Layout (JSON of PrecopyLayout) in place of Metadata; a process tree's
///               directory has a file with Tree (JSON of TreeImage) in its place, then End without pages.
/// Pages payload runs of: u64 address | u64 length | length bytes of page contents
/// End payload   u64 page sections | u64 page bytes | u64 xxhash64 over the checksums of every Pages section
/// </code>
/// Every length is bounded before anything is allocated, so a hostile image cannot make a reader allocate or loop.
/// </summary>
public static class ImageFormat
{
    public static ReadOnlySpan<byte> Magic => "OMXIMAGE"u8;
    /// <summary>4: the tree section, which describes a process tree beside its processes' images. 3: each thread's
    /// capabilities, securebits, no_new_privs and seccomp filters, and the dumpable flag (2 had every thread, 1 one).
    /// Older images are refused, not half read: restored, they would lose those limits. A version 3 image is a process
    /// image as version 4 writes it, and is read.</summary>
    public const uint Version = 4;
    /// <summary>The oldest version read: the last one that changed what a process image holds.</summary>
    public const uint OldestReadable = 3;
    public const int FileHeaderSize = 32;
    public const int SectionHeaderSize = 32;
    public const int RunHeaderSize = 16;
    public const int PageSize = 4096;

    /// <summary>Largest metadata JSON accepted (a process with thousands of mappings and fds stays far below).</summary>
    public const int MaxMetadataBytes = 64 << 20;
    /// <summary>Largest raw Pages payload: one run of up to 16 MiB plus its header, or a batch of small runs.</summary>
    public const int MaxPagesPayload = (16 << 20) + RunHeaderSize;
    public const int EndPayloadSize = 24;

    /// <summary>Highest user-space address on x86_64 with 4-level page tables.</summary>
    public const ulong UserSpaceEnd = 0x0000_8000_0000_0000;
}

/// <summary>What a section holds: the u32 type of its header, so the numbers are part of the format.</summary>
public enum SectionType : uint
{
    /// <summary>The JSON of the <see cref="Image.ProcessImage"/>: everything but the memory contents; the first section.</summary>
    Metadata = 1,
    /// <summary>Runs of page contents, each address | length | bytes; any number of them after the first section.</summary>
    Pages = 2,
    /// <summary>The last section: how many Pages sections and bytes came, and a checksum over their checksums, so a
    /// truncated or spliced image is found out (<see cref="ImageFormat.EndPayloadSize"/> bytes).</summary>
    End = 3,
    /// <summary>The JSON of a <see cref="Image.PrecopyLayout"/>, first in a pre-copy round in place of Metadata.</summary>
    Layout = 4,
    /// <summary>The JSON of a <see cref="Image.TreeImage"/>, first in a process tree's directory file in place of Metadata.</summary>
    Tree = 5,
}

/// <summary>How a section's payload is stored: the u32 codec of its header.</summary>
public enum SectionCodec : uint
{
    /// <summary>As it is: stored length = raw length.</summary>
    Raw = 0,
    /// <summary>An LZ4 block that decodes to raw length bytes.</summary>
    Lz4 = 1,
}

[Flags]
public enum ImageFlags : uint
{
    None = 0,
    /// <summary>The writer tried LZ4 on each section (a section is stored raw when that is smaller).</summary>
    Compressed = 1,
}
