using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Tests.Format;

/// <summary>
/// Hostile metadata that leaves out, nulls or empties (<c>{}</c>) a member the model never has null: System.Text.Json
/// lets most of these through as nulls, and the reader must refuse each as a corrupt image, never fail on a null
/// later. The members are found by reflection over the model, so a member added later is covered too.
/// </summary>
public sealed class MissingMetadataFieldTests
{
    /// <summary>Mutations that leave a complete description: an empty Timers is "no timer armed".</summary>
    private static readonly HashSet<string> Harmless = ["Timers {}"];

    public static TheoryData<string, string> ImageCases() => Cases(FullImageJson(), typeof(ProcessImage), atLeast: 80);

    public static TheoryData<string, string> LayoutCases() => Cases(LayoutJson(), typeof(PrecopyLayout), atLeast: 20);

    [Theory]
    [MemberData(nameof(ImageCases))]
    public void Image_metadata_without_a_member_it_needs_is_refused_as_corrupt(string path, string mutation)
    {
        var json = Mutated(FullImageJson(), path, mutation);
        var bytes = CraftedImages.Build(json);
        if (Harmless.Contains($"{path} {mutation}"))
        {
            AssertNoNulls(ImageVerifier.Verify(new MemoryStream(bytes)).Metadata, "image");
            return;
        }
        var error = Assert.Throws<CorruptImageException>(() => ImageVerifier.Verify(new MemoryStream(bytes)));
        Assert.Contains("metadata", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(LayoutCases))]
    public void A_precopy_layout_without_a_member_it_needs_is_refused_as_corrupt(string path, string mutation)
    {
        var bytes = CraftedImages.Build(SectionType.Layout, Mutated(LayoutJson(), path, mutation));
        using var reader = new ImageReader(new MemoryStream(bytes));
        var error = Assert.Throws<CorruptImageException>(() => reader.ReadLayout());
        Assert.Contains("layout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_attributes_name_the_first_missing_member()
    {
        var json = Mutated(FullImageJson(), "Attributes", "{}");
        var error = Assert.Throws<CorruptImageException>(() => ImageVerifier.Verify(new MemoryStream(CraftedImages.Build(json))));
        Assert.Equal("corrupt image metadata: Attributes.WorkingDirectory is missing or null", error.Message);
    }

    /// <summary>The sample image with every optional part present and every list non-empty, so each member exists to
    /// be taken away.</summary>
    private static JsonObject FullImageJson()
    {
        var sample = SampleImages.Metadata();
        var image = new ProcessImage
        {
            Origin = sample.Origin,
            Cpu = sample.Cpu,
            Signals = sample.Signals,
            Attributes = new ProcessAttributes
            {
                WorkingDirectory = "/tmp",
                Credentials = new Credentials { Groups = [100] },
                Limits = [new ResourceLimit(1, 2)],
                Auxv = [1, 2, 3],
            },
            Rseq = new RseqRegistration(0x1000, 32, 0x53053053, 0),
            Regions = sample.Regions,
            Files = sample.Files,
            Precopy = new PrecopyDelta { Kept = [], Rounds = 1 },
        };
        return JsonNode.Parse(JsonSerializer.SerializeToUtf8Bytes(image, ImageJsonContext.Default.ProcessImage))!.AsObject();
    }

    private static JsonObject LayoutJson()
    {
        var sample = SampleImages.Metadata();
        var layout = new PrecopyLayout
        {
            Pid = 4242,
            Command = "sample",
            Regions = sample.Regions,
            Tracked = [new AddressRange(SampleImages.HeapStart, SampleImages.HeapStart + 4096)],
            Files = sample.Files,
        };
        return JsonNode.Parse(JsonSerializer.SerializeToUtf8Bytes(layout, ImageJsonContext.Default.PrecopyLayout))!.AsObject();
    }

    /// <summary>Every (path, mutation) for the members of <paramref name="type"/> that may never be null: the member
    /// left out, set to null, or set to an empty object; list elements set to null or an empty object.</summary>
    private static TheoryData<string, string> Cases(JsonObject json, Type type, int atLeast)
    {
        var cases = new TheoryData<string, string>();
        foreach (var (path, canBeLeftOut) in NeverNull(json, type, ""))
            foreach (var mutation in canBeLeftOut ? new[] { "missing", "null", "{}" } : ["null", "{}"])
                cases.Add(path, mutation);
        Assert.True(cases.Count >= atLeast, $"only {cases.Count} cases: the walk found too few members");
        return cases;
    }

    private static IEnumerable<(string Path, bool CanBeLeftOut)> NeverNull(JsonObject json, Type type, string prefix)
    {
        var nullability = new NullabilityInfoContext();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || !json.TryGetPropertyValue(property.Name, out var value)) continue;
            var path = prefix + property.Name;
            var propertyType = property.PropertyType;
            if (!propertyType.IsValueType && nullability.Create(property).ReadState == NullabilityState.NotNull)
                yield return (path, true);
            if (value is JsonObject child && IsModel(propertyType))
                foreach (var inner in NeverNull(child, propertyType, path + "."))
                    yield return inner;
            if (value is JsonArray { Count: > 0 } array && ElementType(propertyType) is { IsValueType: false } element)
            {
                yield return ($"{path}[0]", false);
                if (array[0] is JsonObject first && IsModel(element))
                    foreach (var inner in NeverNull(first, element, $"{path}[0]."))
                        yield return inner;
            }
        }
    }

    private static bool IsModel(Type type) => type.Namespace == typeof(ProcessImage).Namespace && !type.IsEnum;

    private static Type? ElementType(Type type) =>
        type == typeof(string) || type == typeof(byte[]) ? null
        : type.IsArray ? type.GetElementType()
        : type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? type.GetGenericArguments()[0]
        : null;

    private static byte[] Mutated(JsonObject json, string path, string mutation)
    {
        var dot = path.LastIndexOf('.');
        var parent = dot < 0 ? json : Walk(json, path[..dot]);
        var last = dot < 0 ? path : path[(dot + 1)..];
        JsonNode? replacement = mutation == "{}" ? new JsonObject() : null;
        if (last.EndsWith("[0]", StringComparison.Ordinal))
            parent[last[..^3]]!.AsArray()[0] = replacement;
        else if (mutation == "missing")
            parent.AsObject().Remove(last);
        else
            parent[last] = replacement;
        return System.Text.Encoding.UTF8.GetBytes(json.ToJsonString());
    }

    private static JsonNode Walk(JsonNode node, string path)
    {
        foreach (var step in path.Split('.'))
            node = step.EndsWith("[0]", StringComparison.Ordinal) ? node[step[..^3]]![0]! : node[step]!;
        return node;
    }

    /// <summary>What an accepted mutation must leave: no null in any member the model never has null.</summary>
    private static void AssertNoNulls(object value, string path)
    {
        var nullability = new NullabilityInfoContext();
        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.PropertyType.IsValueType) continue;
            var member = property.GetValue(value);
            if (member is null)
            {
                Assert.True(nullability.Create(property).ReadState != NullabilityState.NotNull, $"{path}.{property.Name} is null");
                continue;
            }
            if (IsModel(property.PropertyType)) AssertNoNulls(member, $"{path}.{property.Name}");
            if (member is IList list && ElementType(property.PropertyType) is { IsValueType: false })
                foreach (var item in list)
                    Assert.True(item is not null, $"{path}.{property.Name} holds a null");
        }
    }
}
