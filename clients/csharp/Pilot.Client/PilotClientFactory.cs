using System.Net.Sockets;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;

namespace Pilot.Client;

/// <summary>Builds the generated <see cref="PilotControlClient"/> over Pilot's Unix control socket.</summary>
public static class PilotClientFactory
{
    /// <summary>Pilot's and ContainerPilot's default <c>control.socket</c>.</summary>
    public const string DefaultSocketPath = "/var/run/containerpilot.socket";

    // The host is never resolved: every connection is dialed to the socket.
    private static readonly Uri BaseAddress = new("http://control");

    /// <summary>An <see cref="HttpClient"/> whose every connection goes to <paramref name="socketPath"/>.</summary>
    public static HttpClient CreateHttpClient(string socketPath = DefaultSocketPath)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = BaseAddress };
    }

    /// <summary>The generated client over <paramref name="httpClient"/> (from <see cref="CreateHttpClient"/>); the caller owns and disposes it.</summary>
    public static PilotControlClient Create(HttpClient httpClient)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        var adapter = new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: httpClient)
        {
            BaseUrl = BaseAddress.ToString().TrimEnd('/'),
        };
        return new PilotControlClient(adapter);
    }

    /// <summary>The generated client over a new socket-dialing <see cref="HttpClient"/> that lives as long as the process.</summary>
    public static PilotControlClient Create(string socketPath = DefaultSocketPath) => Create(CreateHttpClient(socketPath));
}
