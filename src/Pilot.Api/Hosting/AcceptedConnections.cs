using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace Pilot.Api.Hosting;

/// <summary>
/// Connections Pilot accepted itself on a listening socket it owns, queued for whichever Kestrel serves that socket
/// now. Kestrel never sees the listening socket: it gets a transport (<see cref="TransportFor"/>) whose listener takes
/// from this queue.
/// </summary>
/// <remarks>
/// Why not give each Kestrel a <c>dup</c> of the listening descriptor to accept on: the runtime registers a socket with
/// its epoll set when it first waits on it, and epoll keeps a registration until every descriptor of that open file
/// description is closed. The listening descriptor Pilot keeps holds the description open, so a closed duplicate's
/// registration stays, and the next duplicate that reuses its number fails <c>EPOLL_CTL_ADD</c> with <c>EEXIST</c>:
/// Kestrel's accept loop died and clients waited seconds for a retry (issue 28). An accepted connection is its own open
/// file description, closed whole when its connection ends, so nothing outlives it.
/// </remarks>
internal sealed class AcceptedConnections(EndPoint endPoint, ILoggerFactory loggers) : IDisposable
{
    private readonly ILoggerFactory _loggers = loggers;
    private readonly Channel<Socket> _queue = Channel.CreateUnbounded<Socket>(new UnboundedChannelOptions { SingleWriter = true });

    /// <summary>The listening socket's address, as Kestrel is told to listen on it.</summary>
    public EndPoint EndPoint { get; } = endPoint;

    /// <summary>Connections accepted and not yet taken by a Kestrel.</summary>
    public int Waiting => _queue.Reader.Count;

    /// <summary>Queues a connection Pilot accepted (<paramref name="descriptor"/> is then the queue's to close).</summary>
    public void Add(int descriptor)
    {
        var socket = new Socket(new SafeSocketHandle(descriptor, ownsHandle: true));
        if (!_queue.Writer.TryWrite(socket))
        {
            socket.Dispose();
        }
    }

    /// <summary>
    /// A transport for one Kestrel: <see cref="EndPoint"/> is served from this queue, any other endpoint (the dev
    /// listener's TCP port) is bound by Kestrel's own socket transport.
    /// </summary>
    public IConnectionListenerFactory TransportFor(Func<IConnectionListenerFactory> others) => new Transport(this, others);

    /// <summary>Closes the connections no Kestrel took (Pilot is stopping) and refuses more.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var socket))
        {
            socket.Dispose();
        }
    }

    private sealed class Transport(AcceptedConnections queue, Func<IConnectionListenerFactory> others) : IConnectionListenerFactory
    {
        public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
            endpoint.Equals(queue.EndPoint)
                ? ValueTask.FromResult<IConnectionListener>(new Listener(queue))
                : others().BindAsync(endpoint, cancellationToken);
    }

    /// <summary>Hands out queued connections until Kestrel unbinds it; what it has not taken stays for the next Kestrel.</summary>
    private sealed class Listener(AcceptedConnections queue) : IConnectionListener
    {
        private readonly CancellationTokenSource _unbound = new();
        private readonly SocketConnectionContextFactory _connections = new(
            new SocketConnectionFactoryOptions(), queue._loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets"));

        public EndPoint EndPoint => queue.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
            try
            {
                var socket = await queue._queue.Reader.ReadAsync(stop.Token).ConfigureAwait(false);
                return _connections.Create(socket);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
            {
                // Kestrel's sign that the listener is done.
                return null;
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _unbound.Cancel();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            _unbound.Cancel();
            _unbound.Dispose();
            _connections.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
