using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Parsing;
using Tomlyn.Serialization;
using Tomlyn.Syntax;

namespace OpenMosix.Daemon.Config;

/// <summary>
/// omd.toml parsed by Tomlyn into its table model, then flattened to "table.key" with the line each key stands on,
/// so that every complaint about a value can name its line. Syntax errors come back as one line: FILE:LINE: reason.
/// </summary>
public static class TomlKeys
{
    public static IReadOnlyDictionary<string, (object Value, int Line)> Parse(string text, string fileName)
    {
        // The syntax parser validates the whole document (duplicate keys included) and says where the first error is.
        DocumentSyntax syntax;
        try
        {
            syntax = SyntaxParser.Parse(text, fileName, validate: true);
        }
        catch (ArgumentOutOfRangeException e) when (e.ParamName == "utf32")
        {
            // Tomlyn's lexer fails while describing a backslash escape cut short by the end of the text (the "character"
            // it names is end-of-file, which no string can show) instead of reporting it.
            throw new ConfigException($"{fileName}: a string's backslash escape is cut short by the end of the file");
        }
        catch (TomlException e)
        {
            // What it throws rather than reports: arrays nested past its depth limit.
            throw Syntax(e, fileName);
        }
        if (syntax.Diagnostics.FirstOrDefault(d => d.Kind == DiagnosticMessageKind.Error) is { } error)
            throw new ConfigException($"{fileName}:{error.Span.Start.Line + 1}: {error.Message.ReplaceLineEndings(" ")}");
        var metadata = new TomlMetadataStore();
        var options = new TomlSerializerOptions
        {
            SourceName = fileName,
            MetadataStore = metadata,
            DuplicateKeyHandling = TomlDuplicateKeyHandling.Error,
            TypeInfoResolver = OmdTomlContext.Default,
        };
        // Metadata bound to these options (with their metadata store), still generated, not reflected.
        var tableInfo = (TomlTypeInfo<TomlTable>)OmdTomlContext.Default.GetTypeInfo(typeof(TomlTable), options)!;
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize(text, tableInfo) ?? [];
        }
        catch (TomlException e)
        {
            throw Syntax(e, fileName);
        }
        var values = new Dictionary<string, (object, int)>(StringComparer.Ordinal);
        Flatten(root, "", metadata, values);
        return values;
    }

    private static void Flatten(TomlTable table, string prefix, TomlMetadataStore metadata, Dictionary<string, (object, int)> values)
    {
        metadata.TryGetProperties(table, out var properties);
        foreach (var (key, value) in table)
        {
            var full = prefix + key;
            if (value is TomlTable inner)
            {
                Flatten(inner, full + ".", metadata, values);
                continue;
            }
            var line = properties is not null && properties.TryGetProperty(key, out var property) && property.Span is { } span
                ? span.Start.Line + 1
                : 0;
            values[full] = (value, line);
        }
    }

    private static ConfigException Syntax(TomlException e, string fileName) =>
        new($"{fileName}:{e.Line ?? 0}: {Innermost(e).Message.ReplaceLineEndings(" ")}");

    private static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;
}

/// <summary>Tomlyn's metadata for its own table model, generated: NativeAOT has no reflection serializer.</summary>
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class OmdTomlContext : TomlSerializerContext;
