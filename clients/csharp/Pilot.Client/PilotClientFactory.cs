using System.Net.Sockets;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;

namespace Pilot.Client;

/// <summary>Builds the generated <see cref="PilotControlClient"/> over Pilot's Unix control socket.</summary>
public static class PilotClientFactory
{
    public static PilotControlClient Create(string socketPath = "/var/run/containerpilot.socket")
    {
        var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            },
        });
        var adapter = new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: http) { BaseUrl = "http://control" };
        return new PilotControlClient(adapter);
    }
}
