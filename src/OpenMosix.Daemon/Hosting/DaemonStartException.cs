namespace OpenMosix.Daemon.Hosting;

/// <summary>omd cannot start (its socket or port is taken, ...); the message is one line for the administrator.</summary>
public sealed class DaemonStartException(string message, Exception? inner = null) : Exception(message, inner);
