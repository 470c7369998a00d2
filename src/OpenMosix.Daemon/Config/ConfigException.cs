namespace OpenMosix.Daemon.Config;

/// <summary>A configuration file that cannot be used; the message names the file, the line and what is wrong.</summary>
public sealed class ConfigException(string message) : Exception(message);
