using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Pilot.Api.Hosting;

/// <summary>
/// A bound, listening socket Pilot owns for a listener's whole life. Kestrel serves it through duplicates
/// (<see cref="DuplicateForKestrel"/>), so one can be started and stopped again on the same socket (<see cref="OnDemandKestrel"/>)
/// while clients wait in the backlog, and the address stays taken in between.
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
            return new ListeningSocket(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A new close-on-exec duplicate of the listening descriptor, for one Kestrel's <c>ListenHandle</c> to own.</summary>
    public ulong DuplicateForKestrel()
    {
        var duplicate = Libc.Fcntl(Descriptor, Libc.F_DUPFD_CLOEXEC, 0);
        return duplicate >= 0
            ? (ulong)duplicate
            : throw new IOException($"cannot duplicate the listening socket {LocalEndPoint}: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>
    /// Starts a Kestrel (<paramref name="start"/>, given the handle to listen on) on a duplicate of this socket; the host
    /// closes the duplicate when disposed, and a failed start closes it at once.
    /// </summary>
    public async Task<KestrelHost> StartKestrelAsync(Func<ulong, Task<KestrelHost>> start)
    {
        var handle = DuplicateForKestrel();
        try
        {
            var host = await start(handle).ConfigureAwait(false);
            host.OwnDescriptor((int)handle);
            return host;
        }
        catch
        {
            _ = Libc.Close((int)handle);
            throw;
        }
    }

    /// <summary>Closes the original descriptor; .NET removes the file a Unix socket it bound leaves behind.</summary>
    public void Dispose() => _socket.Dispose();
}
