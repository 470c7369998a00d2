using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpenMosix.Fuzz.Tests.Engine;

/// <summary>
/// Mutations of a JSON document that keep it JSON, so they reach the code behind the parser: a value replaced by one
/// of another type or at a limit (null, {}, huge numbers, empty and NUL strings), a property or element removed, an
/// element repeated, a property renamed, or a subtree copied elsewhere (a realistic shape in the wrong place).
/// </summary>
public static class JsonMutator
{
    private static readonly string[] Values =
    [
        "null", "{}", "[]", "[null]", "[{}]", "0", "-1", "1", "64", "4096", "2147483647", "2147483648", "-2147483649",
        "9223372036854775807", "9223372036854775808", "18446744073709551615", "-9223372036854775808", "1e308", "1e400",
        "-0.0", "0.5", "\"\"", "\"\\u0000\"", "\"x\"", "\"/\"", "\"..\"", "\"/a/../b\"", "true", "false", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"",
        "\"offer\"", "\"-1\"", "[0,0,0,0]",
    ];

    /// <summary>A mutated copy, or null when <paramref name="json"/> is not a JSON document.</summary>
    public static byte[]? Mutate(Random random, byte[] json)
    {
        ArgumentNullException.ThrowIfNull(random);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException)
        {
            return null;
        }
        if (root is null) return null;
        var rounds = 1 + random.Next(3);
        try
        {
            for (var i = 0; i < rounds && root is not null; i++) root = MutateOnce(random, root);
            return root is null ? "null"u8.ToArray() : Encoding.UTF8.GetBytes(root.ToJsonString());
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // Invalid UTF-8 in a string or a property given twice: the byte mutator takes such inputs.
            return null;
        }
    }

    private static JsonNode? MutateOnce(Random random, JsonNode root)
    {
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var target = nodes[random.Next(nodes.Count)];
        var parent = target.Parent;
        switch (random.Next(6))
        {
            case 0 when parent is JsonObject o:
                o.Remove(target.GetPropertyName());
                return root;
            case 1 when parent is JsonArray a:
                a.RemoveAt(target.GetElementIndex());
                return root;
            case 2 when parent is JsonArray a:
                var copies = random.Next(4) == 0 ? random.Next(100, 2000) : random.Next(1, 4);
                for (var i = 0; i < copies; i++) a.Add(target.DeepClone());
                return root;
            case 3 when parent is JsonObject o:
                var name = target.GetPropertyName();
                var renamed = random.Next(2) == 0 ? name.ToUpperInvariant() : name + "x";
                if (o.ContainsKey(renamed)) return root;
                o.Remove(name);
                o[renamed] = target;
                return root;
            case 4:
                return Replace(root, target, nodes[random.Next(nodes.Count)].DeepClone());
            default:
                return Replace(root, target, JsonNode.Parse(Values[random.Next(Values.Length)]));
        }
    }

    private static JsonNode? Replace(JsonNode root, JsonNode target, JsonNode? value)
    {
        switch (target.Parent)
        {
            case JsonObject o:
                o[target.GetPropertyName()] = value;
                return root;
            case JsonArray a:
                a[target.GetElementIndex()] = value;
                return root;
            default:
                return value;
        }
    }

    private static void Collect(JsonNode node, List<JsonNode> nodes)
    {
        nodes.Add(node);
        switch (node)
        {
            case JsonObject o:
                foreach (var (_, child) in o)
                    if (child is not null) Collect(child, nodes);
                break;
            case JsonArray a:
                foreach (var child in a)
                    if (child is not null) Collect(child, nodes);
                break;
        }
    }
}
