namespace OpenMosix.Cluster.Security;

/// <summary>A certificate, key or trust file is missing, unreadable, unsafe or wrong; the message is one line.</summary>
public sealed class CertificateSetupException(string message, Exception? inner = null) : Exception(message, inner);
