using System.Text.Json.Serialization;

namespace OpenMosix.Checkpoint.Format;

/// <summary>
/// Source-generated (NativeAOT-safe) JSON for the metadata section. Every public property of the model travels, so
/// the model can grow without touching the format; nulls in non-nullable properties are refused on read.
/// </summary>
[JsonSourceGenerationOptions(
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    UseStringEnumConverter = true,
    WriteIndented = false)]
[JsonSerializable(typeof(ProcessImage))]
[JsonSerializable(typeof(PrecopyLayout))]
[JsonSerializable(typeof(TreeImage))]
internal sealed partial class ImageJsonContext : JsonSerializerContext;
