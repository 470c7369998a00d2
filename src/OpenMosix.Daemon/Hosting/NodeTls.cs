using OpenMosix.Cluster.Security;
using OpenMosix.Daemon.Gossip;

namespace OpenMosix.Daemon.Hosting;

/// <summary>
/// omd's node certificate at start: node.crt, node.key and ca.crt of paths.tls_dir must be there, readable, the key
/// 0600, the certificate signed by a CA of ca.crt and made out to this node's id; otherwise omd does not start, with
/// one line that says which file and what is wrong.
/// </summary>
public static partial class NodeTls
{
    public static NodeCredentials Load(string directory, NodeIdentity identity, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(identity);
        NodeCredentials credentials;
        try
        {
            credentials = NodeCredentials.Load(directory);
        }
        catch (CertificateSetupException e)
        {
            throw new DaemonStartException($"{e.Message} (paths.tls_dir)", e);
        }
        var certificate = Path.Combine(directory, TlsFiles.NodeCertificate);
        if (credentials.Node != identity.Id)
        {
            credentials.Dispose();
            throw new DaemonStartException(string.Create(CultureInfo.InvariantCulture,
                $"{certificate} is for node {credentials.Node}, but this is node {identity.Id}: `om ca issue {identity.Id} --address {identity.Address}` makes one for it"));
        }
        if (!credentials.Addresses.Contains(identity.Address))
            LogOtherAddress(logger, certificate, string.Join(", ", credentials.Addresses), identity.Address.ToString());
        return credentials;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Certificate} is bound to {Bound}, not to this node's address {Address}: other nodes will refuse its links")]
    private static partial void LogOtherAddress(ILogger logger, string certificate, string bound, string address);
}
