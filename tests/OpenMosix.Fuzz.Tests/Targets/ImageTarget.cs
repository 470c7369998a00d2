using System.Buffers.Binary;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Fuzz.Tests.Engine;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>
/// The image reader, as `om image info`, a restore and a migration target read an image: metadata (or a pre-copy
/// layout) then every page run to the end section; or a process tree's tree file, as `om restore DIR` reads it. Refusal: <see cref="CorruptImageException"/>.
/// </summary>
public sealed class ImageTarget : FuzzTarget
{
    public override string Name => "image";
    public override IReadOnlyList<Type> Refusals { get; } = [typeof(CorruptImageException)];

    public override IEnumerable<(string Name, byte[] Data)> Seeds() => ImageSeeds.All();

    public override bool Run(byte[] input)
    {
        using var stream = new MemoryStream(input, writable: false);
        var first = input.Length >= ImageFormat.FileHeaderSize + 4 ? BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(ImageFormat.FileHeaderSize)) : 0;
        if (first == (uint)SectionType.Tree)
        {
            using var reader = new ImageReader(stream);
            var tree = reader.ReadTree();
            if (tree.Processes[0].Pid != tree.RootPid) throw new PropertyViolation("a tree was read whose first process is not its root");
            return true;
        }
        if (first == (uint)SectionType.Layout)
        {
            using var reader = new ImageReader(stream);
            reader.ReadLayout();
            while (reader.ReadNextPageRun() is not null)
            {
            }
            return true;
        }
        var summary = ImageVerifier.Verify(stream);
        var stored = summary.StoredBytesByRegion.Values.Aggregate(0UL, (a, b) => a + b);
        if (stored != summary.PageBytes) throw new PropertyViolation($"regions hold {stored} page bytes, the reader counted {summary.PageBytes}");
        return true;
    }

    public override byte[] Mutate(Mutator mutator, byte[] seed, IReadOnlyList<byte[]> corpus)
    {
        ArgumentNullException.ThrowIfNull(mutator);
        var random = mutator.Random;
        var image = ImageSections.Split(seed);
        var mode = random.Next(8);
        if (image is null || image.Sections.Count == 0 || mode == 0) return mutator.Mutate(seed, corpus);
        var section = image.Sections[random.Next(image.Sections.Count)];
        switch (mode)
        {
            case 1:
                // A header field at a limit, with only the header's own checksum made right.
                var header = ImageSections.HeaderOf(section);
                var mutated = mutator.Mutate(header, []);
                Array.Resize(ref mutated, ImageFormat.SectionHeaderSize);
                section.RawHeader = mutated;
                break;
            case 2:
                Restructure(random, image);
                break;
            default:
                var payload = ImageSections.Decoded(section);
                var json = section.Type is (uint)SectionType.Metadata or (uint)SectionType.Layout or (uint)SectionType.Tree && random.Next(4) > 0
                    ? JsonMutator.Mutate(random, payload)
                    : null;
                ImageSections.SetPayload(section, json ?? mutator.Mutate(payload, []), compress: random.Next(4) == 0);
                break;
        }
        if (random.Next(4) > 0) image.RepairEnd();
        return image.Seal();
    }

    private static void Restructure(Random random, ImageSections image)
    {
        var sections = image.Sections;
        var i = random.Next(sections.Count);
        switch (random.Next(3))
        {
            case 0:
                sections.RemoveAt(i);
                break;
            case 1:
                sections.Insert(random.Next(sections.Count + 1), sections[i]);
                break;
            default:
                var j = random.Next(sections.Count);
                (sections[i], sections[j]) = (sections[j], sections[i]);
                break;
        }
    }
}
