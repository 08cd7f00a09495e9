namespace Pilot.Supervisor.Config;

/// <summary>
/// The base URI of the Consul agent a resolved <see cref="ConsulConfig"/> names: one rule for the validator (a bad
/// address is a config error) and for the client (which then never meets an address it cannot use).
/// </summary>
public static class ConsulAddress
{
    /// <summary>Go dials an empty host as the local one: <c>:8500</c> (what <c>{{ .CONSUL }}:8500</c> renders to when unset).</summary>
    public const string LocalHost = "127.0.0.1";

    /// <summary>The agent's base URI for <paramref name="scheme"/> (http, https, unix) and <paramref name="address"/>, or why there is none.</summary>
    public static (Uri? BaseUri, string? Error) Resolve(string scheme, string address)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(address);
        switch (scheme.ToLowerInvariant())
        {
            case "unix":
                return address.Length == 0
                    ? (null, "consul address 'unix://' has no socket path")
                    : (new Uri("http://localhost/"), null);
            case "http" or "https":
                var hostPort = address.StartsWith(':') ? LocalHost + address : address;
                if (Uri.TryCreate($"{scheme.ToLowerInvariant()}://{hostPort}/", UriKind.Absolute, out var uri)
                    && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0
                    && !hostPort.Contains('/', StringComparison.Ordinal))
                {
                    return (uri, null);
                }
                return (null, $"consul address '{address}' is not host:port (a host name or IP, then an optional port 0-65535)");
            default:
                return (null, $"Unknown protocol scheme: {scheme}");
        }
    }
}
