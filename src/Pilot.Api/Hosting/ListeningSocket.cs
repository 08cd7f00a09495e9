using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Pilot.Api.Hosting;

/// <summary>
/// A bound, listening socket Pilot owns for a listener's whole life. Pilot accepts its connections itself and hands
/// them to whichever Kestrel runs (<see cref="OnDemandKestrel"/>), so Kestrel can be started and stopped again while
/// clients wait in the backlog, and the address stays taken in between.
/// </summary>
internal sealed class ListeningSocket : IDisposable
{
    private const int Backlog = 512;
    private readonly Socket _socket;

    private ListeningSocket(Socket socket) => _socket = socket;

    /// <summary>The listening descriptor itself, to wait for a client on (it stays open as long as this object).</summary>
    public int Descriptor => (int)_socket.SafeHandle.DangerousGetHandle();

    public EndPoint? LocalEndPoint => _socket.LocalEndPoint;

    /// <summary>Binds <paramref name="endpoint"/> (a Unix socket path or an IP address and port) and listens.</summary>
    /// <param name="beforeListen">Runs once bound, before clients can connect (the socket file's mode).</param>
    public static ListeningSocket Bind(EndPoint endpoint, Action? beforeListen = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var tcp = endpoint is IPEndPoint;
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, tcp ? ProtocolType.Tcp : ProtocolType.Unspecified);
        try
        {
            if (tcp)
            {
                // As Go's net.Listen: a restart (reload) can bind again while old connections sit in TIME_WAIT.
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }
            socket.Bind(endpoint);
            beforeListen?.Invoke();
            socket.Listen(Backlog);
            // Accepted with accept4(2) after poll(2) says a client waits: a client gone meanwhile must not block the accept.
            socket.Blocking = false;
            return new ListeningSocket(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A new close-on-exec duplicate of the listening descriptor, for a web application that listens on it once, for its
    /// whole life (the OpenAPI document's generator); the on-demand listeners never give Kestrel the listening socket.
    /// </summary>
    public ulong DuplicateForKestrel()
    {
        var duplicate = Libc.Fcntl(Descriptor, Libc.F_DUPFD_CLOEXEC, 0);
        return duplicate >= 0
            ? (ulong)duplicate
            : throw new IOException($"cannot duplicate the listening socket {LocalEndPoint}: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Closes the original descriptor; .NET removes the file a Unix socket it bound leaves behind.</summary>
    public void Dispose() => _socket.Dispose();
}
