namespace OpenMosix.Lab;

/// <summary>A lab step failed; the message is one line that names the step (the CLI prints it as is).</summary>
public sealed class LabException : Exception
{
    public LabException(string message) : base(message) { }
    public LabException(string message, Exception inner) : base(message, inner) { }
}
