using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using OpenMosix.Admin;
using OpenMosix.Fuzz.Tests.Engine;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>
/// Request bodies of the admin API, read as every contract a route reads: refusal is a <see cref="JsonException"/>
/// (the routes answer it with 400). A contract that accepts a body must not hold a null where its type promises a
/// value, since the routes follow such references (a NullReferenceException would be an HTTP 500).
/// </summary>
public sealed class AdminJsonTarget : FuzzTarget
{
    private static readonly JsonTypeInfo[] Contracts =
    [
        AdminJsonContext.Default.MapUpload, AdminJsonContext.Default.SpeedSetting, AdminJsonContext.Default.SwitchChange,
        AdminJsonContext.Default.DecayChange, AdminJsonContext.Default.RunRequest, AdminJsonContext.Default.MigrateRequest,
        AdminJsonContext.Default.AdoptRequest, AdminJsonContext.Default.ManageView,
    ];

    private static readonly NullabilityInfoContext Nullability = new();

    public override string Name => "admin-json";
    public override IReadOnlyList<Type> Refusals { get; } = [typeof(JsonException)];

    /// <summary>System.Text.Json quotes the offending text, line breaks and all; AdminRoutes answers it on one line.</summary>
    public override bool OneLineRefusals => false;

    public override IEnumerable<(string Name, byte[] Data)> Seeds()
    {
        yield return ("map-upload.json", JsonSerializer.SerializeToUtf8Bytes(new MapUpload("/etc/openmosix.map", "1 10.0.0.1 4\n", "setpe"), AdminJsonContext.Default.MapUpload));
        yield return ("speed.json", JsonSerializer.SerializeToUtf8Bytes(new SpeedSetting(1500), AdminJsonContext.Default.SpeedSetting));
        yield return ("switch.json", JsonSerializer.SerializeToUtf8Bytes(new SwitchChange("block", true), AdminJsonContext.Default.SwitchChange));
        yield return ("decay.json", JsonSerializer.SerializeToUtf8Bytes(new DecayChange(60, 4), AdminJsonContext.Default.DecayChange));
        yield return ("run.json", JsonSerializer.SerializeToUtf8Bytes(new RunRequest(0, [2, 3], true, false, false, "slow", "cpu"), AdminJsonContext.Default.RunRequest));
        yield return ("migrate.json", JsonSerializer.SerializeToUtf8Bytes(new MigrateRequest("home", false), AdminJsonContext.Default.MigrateRequest));
        yield return ("adopt.json", JsonSerializer.SerializeToUtf8Bytes(new AdoptRequest(true), AdminJsonContext.Default.AdoptRequest));
        yield return ("manage.json", JsonSerializer.SerializeToUtf8Bytes(new ManageView(["*"], ["/user.slice"], ["python3*"]), AdminJsonContext.Default.ManageView));
    }

    public override bool Run(byte[] input)
    {
        var accepted = false;
        List<JsonException> refusals = [];
        foreach (var contract in Contracts)
        {
            object? value;
            try
            {
                value = JsonSerializer.Deserialize(input, contract);
            }
            catch (JsonException e)
            {
                refusals.Add(e);
                continue;
            }
            if (value is null) continue;
            if (MissingValue(value) is { } path) throw new PropertyViolation($"{contract.Type.Name} accepted a body with no value at {path}");
            accepted = true;
        }
        if (!accepted && refusals.Count > 0) throw refusals[0];
        return accepted;
    }

    /// <summary>The first property that is null though its declared type is not nullable. (A null inside a list is
    /// the route's to refuse: ManagePolicy refuses null entries, RunRequest's ids cannot be null.)</summary>
    private static string? MissingValue(object contract)
    {
        foreach (var property in contract.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.PropertyType.IsValueType || property.GetIndexParameters().Length > 0) continue;
            if (property.GetValue(contract) is null && Nullability.Create(property).ReadState == NullabilityState.NotNull) return property.Name;
        }
        return null;
    }

    public override byte[] Mutate(Mutator mutator, byte[] seed, IReadOnlyList<byte[]> corpus)
    {
        ArgumentNullException.ThrowIfNull(mutator);
        return mutator.Random.Next(4) > 0 && JsonMutator.Mutate(mutator.Random, seed) is { } json ? json : mutator.Mutate(seed, corpus);
    }
}
