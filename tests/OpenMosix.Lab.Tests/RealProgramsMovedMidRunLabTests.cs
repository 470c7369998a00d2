using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Issue #5 end to end with programs nobody wrote for openMosix: started with `om run` in node 1, moved in the middle
/// of their work, and compared with what an uninterrupted run prints or writes.
/// </summary>
[Collection(MigrationLab.ProgramsCollection)]
public sealed class RealProgramsMovedMidRunLabTests(MigrationLab fixture)
{
    private readonly TestLab _lab = fixture.Lab;

    [Fact]
    public void A_python_program_moved_away_and_back_finishes_with_the_output_of_an_uninterrupted_run()
    {
        const string Script = "import time\nfor i in range(120):\n    print(i, i * i % 9973, flush=True)\n    time.sleep(0.02)\n";
        var reference = CommandRun.Run("/usr/bin/python3", ["-c", Script]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var run = _lab.Managed(1, "/usr/bin/python3", "-c", Script);
        run.WaitForLines(10);
        _lab.Migrate(1, run.Pid, "3");
        run.WaitForLines(run.Lines().Count + 10);
        _lab.Migrate(1, run.Pid, "home");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(reference, run.Lines());
    }

    [Theory]
    [InlineData("xz", 400_000, "-T1", "-6", "-c")]
    [InlineData("gzip", 3_000_000, "-9", "-c")]
    public void A_compressor_moved_mid_file_writes_the_same_bytes_as_an_uninterrupted_run(string program, int lines, params string[] options)
    {
        var input = Path.Combine(_lab.Layout.NodeDirectory(1), $"input-{program}");
        var random = new Random(5);
        using (var file = File.Create(input))
            for (var i = 0; i < lines; i++) file.Write(System.Text.Encoding.ASCII.GetBytes($"{i} {random.Next(1000)} openMosix\n"));
        var output = input + ".out";
        using var run = _lab.Managed(1, ["sh", "-c", $"exec {Om.Path} run /usr/bin/{program} {string.Join(' ', options)} {input} > {output}"], null);
        Poll.Until(() => File.Exists(output) && new FileInfo(output).Length > 0 || run.Process.HasExited, TimeSpan.FromSeconds(20), "the compressor to start writing");
        Assert.False(run.Process.HasExited, "the compressor finished before it could be moved; give it a larger input");
        _lab.Migrate(1, run.Pid, "3");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        var expected = RunToBytes($"/usr/bin/{program}", [.. options, input]);
        Assert.Equal(expected, File.ReadAllBytes(output));
    }

    [Fact]
    public void The_middle_of_a_pipeline_moves_and_the_pipeline_produces_what_it_would_have()
    {
        var output = Path.Combine(_lab.Layout.NodeDirectory(1), $"pipeline-{Guid.NewGuid():N}.out");
        const string Producer = "i=0; while [ $i -lt 400 ]; do echo \"line $i\"; i=$((i+1)); sleep 0.01; done";
        var reference = CommandRun.Run("sh", ["-c", $"{Producer} | {TestPrograms.Locate("pipereader")}"]).Stdout;
        using var run = _lab.Managed(1, ["sh", "-c", $"{Producer} | {Om.Path} run {TestPrograms.Locate("pipereader")} | cat > {output}"], null);
        ProcessRow? filter = null;
        Poll.Until(() => (filter = _lab.Processes(1).Processes.FirstOrDefault(p => p.Command.Contains("pipereader", StringComparison.Ordinal)
            && !p.Command.Contains(" run ", StringComparison.Ordinal))) is not null, TimeSpan.FromSeconds(20), "the filter to start");
        Poll.Until(() => File.Exists(output) && new FileInfo(output).Length > 0, TimeSpan.FromSeconds(20), "output from the filter");
        _lab.Migrate(1, filter!.Pid, "2");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(reference, File.ReadAllText(output));
    }

    [Fact]
    public void Bc_moved_in_the_middle_of_a_long_calculation_prints_the_same_digits()
    {
        const string Program = "scale=2000; for (i = 1; i <= 8; i++) { print i, \": \", a(1/i), \"\\n\" }";
        var reference = CommandRun.Run("/usr/bin/bc", ["-l"], stdin: Program + "\n").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var script = Path.Combine(_lab.Layout.NodeDirectory(1), $"calc-{Guid.NewGuid():N}.bc");
        File.WriteAllText(script, Program + "\nquit\n");
        using var run = _lab.Managed(1, "/usr/bin/bc", "-l", script);
        run.WaitForLines(1);
        _lab.Migrate(1, run.Pid, "2");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Equal(reference, run.Lines());
    }

    internal static byte[] RunToBytes(string program, string[] arguments)
    {
        var info = new System.Diagnostics.ProcessStartInfo(program, arguments) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(info)!;
        using var bytes = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(bytes);
        process.WaitForExit();
        return bytes.ToArray();
    }
}
