using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A 2-node lab whose node 1 has a directory only it sees (a tmpfs mounted in its own mount namespace over an empty
/// directory of the host) and names it a home path in its omd.toml ([files] home_paths).
/// </summary>
public sealed class HomeFilesLab : IDisposable
{
    internal TestLab Lab { get; } = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");

    internal string Directory { get; }

    public HomeFilesLab()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"omhome-{Lab.Name}");
        System.IO.Directory.CreateDirectory(Directory);
        try
        {
            Lab.Exec(1, "mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", Directory).Succeeded();
            Lab.Exec(1, "sh", "-c", $"cd {Directory} && printf 'opened before the move\\n' > before.txt && printf 'opened after the move\\n' > after.txt"
                                    + " && ln -s after.txt link && mkdir sub && printf 'below\\n' > sub/inner.txt").Succeeded();
            File.AppendAllText(Lab.Layout.NodeConfigFile(1), $"[files]\nhome_paths = [\"{Directory}\"]\n");
            Om.Run("lab", "restart", "--name", Lab.Name, "1").Succeeded();
            Poll.Until(() => SeesNode2Alive(), TimeSpan.FromSeconds(30), "node 1's new omd to hear of node 2");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private bool SeesNode2Alive()
    {
        var status = Lab.Exec(1, Om.Path, "status", "--json");
        if (status.ExitCode != 0) return false;
        using var json = System.Text.Json.JsonDocument.Parse(status.Stdout);
        return json.RootElement.GetProperty("nodes").EnumerateArray()
            .Any(n => n.GetProperty("id").GetInt32() == 2 && n.GetProperty("state").GetString() == "alive");
    }

    public void Dispose()
    {
        Lab.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory);
        }
        catch (IOException)
        {
            // still a mount point somewhere: left for the host's /tmp cleaning
        }
    }
}

/// <summary>
/// Issue #15, point 4: a moved process uses files only its home has, through its deputy: a descriptor opened before
/// the move, and paths opened, stat'ed, listed, read as links and checked for access after it; a path missing at home
/// is still ENOENT, and a file written away is written at home.
/// </summary>
public sealed class HomeFilesLabTests(HomeFilesLab fixture) : IClassFixture<HomeFilesLab>
{
    private readonly TestLab _lab = fixture.Lab;
    private readonly string _home = fixture.Directory;

    private const string Program = """
        import os, sys
        d, out = sys.argv[1], sys.argv[2]
        f = open(d + "/before.txt", "rb")
        print("ready", flush=True)
        sys.stdin.readline()
        print("before:", f.read().decode().strip(), os.fstat(f.fileno()).st_size, flush=True)
        f.close()
        with open(d + "/after.txt", "rb") as g:
            print("after:", g.read().decode().strip(), os.fstat(g.fileno()).st_size, flush=True)
        print("stat:", os.stat(d + "/after.txt").st_size, os.lstat(d + "/link").st_size > 0, flush=True)
        print("link:", os.readlink(d + "/link"), flush=True)
        print("list:", sorted(os.listdir(d)), flush=True)
        print("inner:", open(d + "/sub/inner.txt").read().strip(), flush=True)
        print("access:", os.access(d + "/after.txt", os.R_OK), os.access(d + "/nope", os.F_OK), flush=True)
        try:
            open(d + "/missing.txt")
            print("missing: opened", flush=True)
        except FileNotFoundError as e:
            print("missing: ENOENT", e.errno, flush=True)
        os.chdir("/")
        with open(d + "/sub/" + out, "w") as w:
            w.write("written by the program\n")
        for i in range(70):
            with open(d + "/after.txt") as again:
                again.read()
        print("done", flush=True)
        """;

    [Fact]
    public void A_program_moved_mid_run_reads_files_only_its_home_has_opened_before_and_after_the_move_as_if_it_had_not_moved()
    {
        Assert.False(File.Exists(Path.Combine(_home, "before.txt")), "the home directory's files are node 1's only");
        Assert.NotEqual(0, _lab.Exec(2, "test", "-e", Path.Combine(_home, "after.txt")).ExitCode);

        var reference = Run(move: false, "reference.txt");
        var moved = Run(move: true, "moved.txt");

        Assert.Equal(reference, moved);
        Assert.Equal("before: opened before the move 23", moved[1]);
        Assert.Equal("after: opened after the move 22", moved[2]);
        Assert.Equal("link: after.txt", moved[4]);
        Assert.Contains("missing: ENOENT 2", moved);
        Assert.Equal("written by the program", _lab.Exec(1, "cat", Path.Combine(_home, "sub", "moved.txt")).Succeeded().Stdout.Trim());
        Assert.NotEqual(0, _lab.Exec(2, "test", "-e", Path.Combine(_home, "sub", "moved.txt")).ExitCode);
    }

    private IReadOnlyList<string> Run(bool move, string output)
    {
        var (stdinRead, stdinWrite) = Descriptors.CreatePipe();
        ManagedRun run;
        using (stdinRead) run = _lab.Managed(1, ["python3", "-c", Program, _home, output], stdinRead);
        using (run)
        using (var stdin = new FileStream(stdinWrite, FileAccess.Write))
        {
            run.WaitForLines(1);
            if (move)
            {
                _lab.Migrate(1, run.Pid, "2");
                Assert.Equal("2", _lab.Exec(1, Om.Path, "where", $"{run.Pid}").Succeeded().Stdout.Trim());
            }
            stdin.Write("go\n"u8);
            stdin.Flush();
            Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
            return run.Lines();
        }
    }
}
