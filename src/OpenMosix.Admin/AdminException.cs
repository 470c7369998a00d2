namespace OpenMosix.Admin;

/// <summary>The daemon could not be reached or refused a request; the message is one line for a user.</summary>
public sealed class AdminException(string message, int statusCode = 0, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>The HTTP status the daemon answered with, 0 when it could not be reached.</summary>
    public int StatusCode { get; } = statusCode;
}
