using System.Net;
using System.Net.Sockets;

namespace Pilot.Api.Tests.Support;

internal static class LoopbackPort
{
    /// <summary>A TCP port on 127.0.0.1 that nothing listened on a moment ago.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until something accepts connections on 127.0.0.1:<paramref name="port"/> (a listener started after the control socket).</summary>
    public static async Task WaitUntilListenedOnAsync(int port, CancellationToken cancellationToken)
    {
        while (!await IsListenedOnAsync(port, cancellationToken))
        {
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>Whether something accepts connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task<bool> IsListenedOnAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
