using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Checkpoint.Tree;

namespace OpenMosix.Cli.Commands;

/// <summary>`om restore DIR`: a process tree from the directory om checkpoint --tree wrote, every file checked whole first.</summary>
internal static class TreeRestore
{
    public static RestoredProcess Run(CheckpointEngine engine, string directory)
    {
        var treeFile = Path.Combine(directory, TreeImageDirectory.TreeFileName);
        if (!File.Exists(treeFile)) throw new CorruptImageException($"{directory} is a directory without a tree file: not the image of a process tree");
        TreeImage tree;
        using (var file = new FileStream(treeFile, FileMode.Open, FileAccess.Read, FileShare.Read))
        using (var reader = new ImageReader(file))
            tree = reader.ReadTree();
        var running = tree.Processes.Where(p => p.ExitStatus is null).Select(p => p.Pid).ToList();
        foreach (var pid in running) ImageVerifier.VerifyFile(ImagePath(directory, pid));
        var readers = new List<ImageReader>();
        try
        {
            var restored = engine.RestoreTree(tree, pid =>
            {
                var reader = new ImageReader(new FileStream(ImagePath(directory, pid), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20));
                readers.Add(reader);
                return reader;
            }, new RestoreOptions());
            return restored[0];
        }
        finally
        {
            readers.ForEach(r => r.Dispose());
        }
    }

    private static string ImagePath(string directory, int pid) => Path.Combine(directory, $"{pid}.img");
}
