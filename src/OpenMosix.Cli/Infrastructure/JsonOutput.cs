using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace OpenMosix.Cli.Infrastructure;

/// <summary>A command's result as JSON on stdout when --json was given, else as its text.</summary>
internal static class JsonOutput
{
    public static void Print<T>(ParseResult parse, Option<bool> json, T result, JsonTypeInfo<T> type, Action text)
    {
        if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(result, type));
        else text();
    }
}
