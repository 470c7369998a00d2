using System.Text;
using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Daemon.Admin;
using OpenMosix.Daemon.Config;
using OpenMosix.Daemon.Processes;
using OpenMosix.Fuzz.Tests.Engine;
using OpenMosix.Fuzz.Tests.Targets;
using OpenMosix.Linux;

namespace OpenMosix.Fuzz.Tests;

/// <summary>What fuzzing found, each as the smallest input that showed it and as the corpus file it came from.</summary>
[Collection(FuzzCollection.Name)]
public sealed class RegressionTests
{
    [Theory]
    [InlineData("\"\\")]
    [InlineData("address = \"\\")]
    public void A_file_that_ends_inside_an_escape_is_a_one_line_config_error(string text)
    {
        var error = Assert.Throws<ConfigException>(() => OmdConfigLoader.Parse($"[node]\n{text}", "/etc/openmosix/omd.toml"));
        Assert.Equal("/etc/openmosix/omd.toml: a string's backslash escape is cut short by the end of the file", error.Message);
        AssertHandled("config", "crash-bad-unicode-escape.toml");
    }

    [Fact]
    public void Arrays_nested_past_the_parsers_depth_are_a_config_error()
    {
        var text = "[manage]\nusers = " + new string('[', 100) + new string(']', 100) + "\n";

        var error = Assert.Throws<ConfigException>(() => OmdConfigLoader.Parse(text, "omd.toml"));

        Assert.StartsWith("omd.toml:", error.Message, StringComparison.Ordinal);
        AssertHandled("config", "crash-deep-arrays.toml");
    }

    [Fact]
    public void A_path_holding_a_nul_is_a_config_error()
    {
        var error = Assert.Throws<ConfigException>(() => OmdConfigLoader.Parse("[paths]\nmap = \"/etc/x\\u0000y\"\n", "omd.toml"));

        Assert.Equal("omd.toml:2: paths.map holds a NUL character, which no path can", error.Message);
        AssertHandled("config", "crash-nul-in-path.toml");
    }

    [Theory]
    [InlineData("nan")]
    [InlineData("+nan")]
    [InlineData("-nan")]
    public void A_tunable_given_as_nan_is_refused_like_one_out_of_range(string value)
    {
        var error = Assert.Throws<ConfigException>(() => OmdConfigLoader.Parse($"[balance]\nmargin = {value}\n", "omd.toml"));
        Assert.Equal("omd.toml:2: balance.margin must be between 0 and 10", error.Message);
        AssertHandled("config", "crash-nan-tunable.toml");
    }

    [Theory]
    [InlineData("{\"on\":0,\"among\":null,\"fallback\":false,\"home\":false,\"lock\":false}")]
    [InlineData("{\"on\":0,\"fallback\":false,\"home\":false,\"lock\":false}")]
    public void A_run_request_without_its_node_list_is_bad_json_not_a_null_for_the_route(string body)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(body, AdminJsonContext.Default.RunRequest));
        AssertHandled("admin-json", "crash-null-among.json");
    }

    [Fact]
    public void A_route_answers_json_that_quotes_a_line_break_with_a_one_line_error()
    {
        // Only the JSON is read before the answer, so the route needs none of omd's state.
        var routes = new AdminRoutes(null!, null!, DateTimeOffset.UtcNow, null!, null!);
        var body = Encoding.UTF8.GetBytes("{\"speed\": tr\nue}");

        var response = routes.Handle(new HttpRequest("PUT", "/v1/speed", body), new PeerCredentials(1, 0, 0));

        Assert.Equal(400, response.Status);
        var error = JsonSerializer.Deserialize(response.Body, AdminJsonContext.Default.ErrorReply)!.Error;
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void A_manage_policy_with_a_null_entry_is_refused_before_it_meets_a_process()
    {
        Assert.Throws<ArgumentException>(() => new ManagePolicy(["*"], [null!], [], _ => null));
        Assert.Throws<ArgumentException>(() => new ManagePolicy([], [], ["python3*", null!], _ => null));
    }

    [Fact]
    public void Image_metadata_whose_json_error_quotes_a_line_break_is_refused_on_one_line()
    {
        var image = ImageSections.Split(Corpus.Load("image").Single(c => c.Name == "valid-process.omi").Data)!;
        ImageSections.SetPayload(image.Sections[0], Encoding.UTF8.GetBytes("{\"Origin\": tr\nue}"), compress: false);

        var error = Assert.Throws<CorruptImageException>(() => ImageVerifier.Verify(new MemoryStream(image.Seal())));

        Assert.DoesNotContain('\n', error.Message);
        AssertHandled("image", "crash-json-error-quotes-line-breaks.omi");
    }

    [Fact]
    public void A_compressed_section_claiming_more_than_lz4_can_expand_is_refused_before_allocating()
    {
        var input = Corpus.Load("image").Single(c => c.Name == "crash-lz4-claims-32-mib.omi").Data;
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<CorruptImageException>(() => ImageVerifier.Verify(new MemoryStream(input)));

        Assert.Contains("LZ4 expands at most 255 times", error.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the refusal allocated a megabyte or more");
    }

    [Fact]
    public void An_image_file_whose_section_claims_more_than_the_file_holds_is_refused_before_allocating()
    {
        var input = Corpus.Load("image").Single(c => c.Name == "crash-raw-section-claims-54-mib.omi").Data;
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<CorruptImageException>(() => ImageVerifier.Verify(new MemoryStream(input)));

        Assert.StartsWith($"image truncated at byte {input.Length}", error.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the refusal allocated a megabyte or more");
    }

    [Theory]
    [InlineData("[node]\naddress = \"\\n10.77.3.2\"\n", "omd.toml:2: node.address: '\\n10.77.3.2' is not an IPv4 address")]
    [InlineData("[node]\n\"a\\nb\" = 1\n", "omd.toml:2: unknown key 'node.a\\nb' (see docs/omd.md for the keys omd knows)")]
    public void A_config_value_or_key_with_a_line_break_is_shown_escaped_in_a_one_line_error(string text, string message)
    {
        Assert.Equal(message, Assert.Throws<ConfigException>(() => OmdConfigLoader.Parse(text, "omd.toml")).Message);
        AssertHandled("config", "crash-line-break-in-address.toml");
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    [InlineData(ImageFormat.MaxPagesPayload)]
    public void Zeros_the_writer_compresses_stay_within_the_lz4_bound(int length)
    {
        var raw = new byte[length];
        var stored = new byte[K4os.Compression.LZ4.LZ4Codec.MaximumOutputSize(length)];
        var storedLength = K4os.Compression.LZ4.LZ4Codec.Encode(raw, stored);

        Assert.InRange(length, 0, (long)storedLength * 255 + 255);
    }

    private static void AssertHandled(string target, string file)
    {
        using var fuzz = FuzzTargets.Create(target);
        var input = Corpus.Load(target).Single(c => c.Name == file).Data;
        if (FuzzRunner.Replay(fuzz, input, FuzzSettings.FromEnvironment(), out _) is { } finding) Assert.Fail($"{target}/{file}: {finding}");
    }
}
