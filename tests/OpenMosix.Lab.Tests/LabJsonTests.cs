using System.Text.Json;
using OpenMosix.Lab.State;
using OpenMosix.Lab.Tests.Support;

namespace OpenMosix.Lab.Tests;

/// <summary>om lab's own commands with --json: up prints the lab as status does, a fault its node and kind, down what it removed.</summary>
public sealed class LabJsonTests
{
    [Fact]
    public void Up_cut_heal_and_down_print_what_they_did_as_json()
    {
        var name = TestLab.UniqueName();
        try
        {
            var up = JsonSerializer.Deserialize(Om.Run("lab", "up", "--name", name, "--nodes", "1", "--no-daemon", "--json").Succeeded().Stdout,
                LabJsonContext.Default.LabStatus)!;
            Assert.Equal(name, up.Name);
            Assert.Equal([1], up.Nodes.Select(n => n.Id));

            var cut = Json(Om.Run("lab", "cut", "1", "--name", name, "--json"));
            var healed = Json(Om.Run("lab", "heal", "1", "--name", name, "--json"));
            Assert.Equal((1, "cut"), (cut.GetProperty("node").GetInt32(), cut.GetProperty("fault").GetString()));
            Assert.Equal((1, "heal"), (healed.GetProperty("node").GetInt32(), healed.GetProperty("fault").GetString()));
            Assert.False(cut.TryGetProperty("daemonPid", out _));

            var down = Assert.Single(Json(Om.Run("lab", "down", "--name", name, "--json")).GetProperty("labs").EnumerateArray());
            Assert.Equal((name, true), (down.GetProperty("name").GetString(), down.GetProperty("found").GetBoolean()));
            Assert.NotEqual("", down.GetProperty("removed").GetString());
        }
        finally
        {
            Om.Run("lab", "down", "--name", name);
        }
    }

    private static JsonElement Json(OmResult run) => JsonDocument.Parse(run.Succeeded().Stdout).RootElement.Clone();
}
