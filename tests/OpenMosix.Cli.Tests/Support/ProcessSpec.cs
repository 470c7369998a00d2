namespace OpenMosix.Cli.Tests.Support;

/// <summary>
/// How to start a program: relative paths in its arguments resolve against <see cref="WorkingDirectory"/>, so the
/// reference run and the checkpointed run (in different temp directories) print the same text.
/// <see cref="Stdin"/>, when set, is written to the program's stdin pipe which is then closed; otherwise stdin is
/// left open for the test to feed (see <see cref="RunningProcess.Stdin"/>).
/// </summary>
internal sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments, string WorkingDirectory, byte[]? Stdin = null)
{
    public override string ToString() => $"(cd {WorkingDirectory} && {FileName} {string.Join(' ', Arguments)})";
}
