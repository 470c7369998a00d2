using System.Text;
using OpenMosix.Cli.Tests.Support;
using static OpenMosix.Cli.Tests.Support.Scenario;

namespace OpenMosix.Cli.Tests;

/// <summary>Descriptors on regular files are reopened by path at their offsets; cwd and umask come back too.</summary>
public sealed class FileStateRestoreTests
{
    [Fact]
    public Task File_copy_resumes_reading_and_writing_at_the_saved_offsets() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "fileio input.bin(16MB) out.bin",
        Prepare = dir => InputFiles.WriteRandom(Path.Combine(dir, "input.bin"), 16_000_000, 0xf17e),
        Command = dir => CompiledProgramRestoreTests.Target(dir, "fileio", "input.bin", "out.bin", "65536", "6"),
        Ready = PrintedLines(2),
        ReadyDescription = "fileio copied its first chunks",
        MaxExtraDelay = TimeSpan.FromMilliseconds(800),
        CollectFiles = dir => CheckpointFlow.ReadFiles(dir, "out.bin"),
    });

    [Fact]
    public Task Files_created_after_restore_land_in_the_saved_cwd_with_the_saved_umask() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "cwdumask work 30 50",
        Prepare = dir => Directory.CreateDirectory(Path.Combine(dir, "work")),
        Command = dir => CompiledProgramRestoreTests.Target(dir, "cwdumask", "work", "30", "50"),
        Ready = PrintedLines(3),
        ReadyDescription = "cwdumask created three entries",
        MaxExtraDelay = TimeSpan.FromMilliseconds(800),
        CollectFiles = dir => DescribeTree(Path.Combine(dir, "work")),
    });

    [Fact]
    public Task Stdout_redirected_to_a_file_continues_at_its_offset_after_restore() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "sh -c exec sleeper 40 50 > out.txt",
        Command = dir => new ProcessSpec("/bin/sh", ["-c", "exec \"$0\" \"$@\" > out.txt", TestPaths.Program("sleeper"), "40", "50"], dir),
        Ready = process => ProcessStdoutFile(process) >= 3,
        ReadyDescription = "sleeper wrote three lines into out.txt",
        MaxExtraDelay = TimeSpan.FromMilliseconds(900),
        CollectFiles = dir => CheckpointFlow.ReadFiles(dir, "out.txt"),
    });

    /// <summary>Lines in the file the process's stdout points at (read through /proc, so no directory is needed).</summary>
    private static int ProcessStdoutFile(RunningProcess process)
    {
        try
        {
            return File.ReadAllBytes($"/proc/{process.Pid}/fd/1").Count(b => b == (byte)'\n');
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Each entry with its type and permission bits, so a wrong umask or cwd shows up as a difference.</summary>
    private static Dictionary<string, byte[]> DescribeTree(string root) =>
        Directory.EnumerateFileSystemEntries(root).Order(StringComparer.Ordinal).ToDictionary(
            path => $"{Path.GetFileName(path)} {Convert.ToString((int)File.GetUnixFileMode(path), 8)}",
            path => Directory.Exists(path) ? Encoding.ASCII.GetBytes("<dir>") : File.ReadAllBytes(path));
}
