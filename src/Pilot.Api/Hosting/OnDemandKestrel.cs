using System.Net;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Pilot.Api.Hosting;

/// <summary>What a listener's Kestrel is started with: the endpoint to listen on, the transport that serves it, and the
/// connection middleware that must run first.</summary>
internal sealed record KestrelStart(EndPoint EndPoint, IConnectionListenerFactory Transport, Func<ConnectionDelegate, ConnectionDelegate> First);

/// <summary>
/// Kestrel on a listening socket (the control socket; the telemetry port) only while clients use it. A running
/// Kestrel's heartbeat formats a new <c>Date</c> header value and walks its connections every second, ≈240 bytes of
/// garbage a second for as long as it runs (heap dumps of an idle Pilot, issue 14), and it has no switch. So while
/// nobody calls, no Kestrel runs. One thread of Pilot's accepts every connection on the listening socket (blocked in
/// <c>poll(2)</c> meanwhile) and queues it for Kestrel (<see cref="AcceptedConnections"/>, which says why Kestrel
/// never gets the listening socket itself); a connection that finds no Kestrel running starts one, and Kestrel stops
/// again once it has had no connection for the idle time.
/// </summary>
internal sealed class OnDemandKestrel : IAsyncDisposable
{
    /// <summary>By default, how long Kestrel stays up without any connection (several CLI calls in a row share one start).</summary>
    public static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(10);

    /// <summary>How long to wait before accepting again when the process is out of descriptors or memory.</summary>
    private static readonly TimeSpan AcceptRetry = TimeSpan.FromMilliseconds(100);

    private readonly ListeningSocket _listener;
    private readonly string _role;
    private readonly Func<KestrelStart, Task<KestrelHost>> _start;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly TimeSpan? _idleAfter;
    private readonly AcceptedConnections _connections;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly int _wake;
    private readonly Thread _acceptor;
    private KestrelHost? _host;
    private ITimer? _idleCheck;
    private volatile bool _stopping;
    private int _open;
    private long _handed;
    private long _handedAtLastCheck;

    /// <param name="role">What the listener is, for its log lines and its thread's name: "control", "telemetry".</param>
    /// <param name="start">Starts a Kestrel as <see cref="KestrelStart"/> says.</param>
    /// <param name="idleAfter">How long Kestrel serves without a connection before it stops; null: it never stops.</param>
    public OnDemandKestrel(string role, ListeningSocket listener, Func<KestrelStart, Task<KestrelHost>> start,
        ILoggerFactory loggers, ILogger log, TimeSpan? idleAfter)
    {
        _role = role;
        _listener = listener;
        _start = start;
        _loggers = loggers;
        _log = log;
        _idleAfter = idleAfter;
        _connections = new AcceptedConnections(listener.LocalEndPoint!, loggers);
        _wake = PollInterop.CreateEventFd();
        _acceptor = new Thread(AcceptClients, maxStackSize: 256 * 1024) { IsBackground = true, Name = $"Pilot {role} socket" };
        _acceptor.Start();
    }

    /// <summary>True while a Kestrel serves the socket.</summary>
    public bool IsServing => Volatile.Read(ref _host) is not null;

    /// <summary>Where the running Kestrel listens (none while it is stopped).</summary>
    public ICollection<string> Addresses => Volatile.Read(ref _host)?.Addresses ?? [];

    /// <summary>Starts Kestrel now rather than at the first connection (a listener that must serve from the start).</summary>
    public Task StartNowAsync() => EnsureServingAsync();

    private void AcceptClients()
    {
        while (!_stopping)
        {
            if (!PollInterop.WaitReadable(_listener.Descriptor, _wake) || _stopping)
            {
                continue;
            }
            if (!TryAccept())
            {
                continue;
            }
            try
            {
                EnsureServingAsync().GetAwaiter().GetResult();
            }
            catch (Exception ex) when (!_stopping)
            {
                // The connection stays queued; the next client, or this retry, starts the server.
                _log.LogError(ex, "{Role}: cannot start the {Role} server", _role, _role);
                PollInterop.WaitForWake(_wake, TimeSpan.FromSeconds(1));
            }
        }
    }

    private unsafe bool TryAccept()
    {
        var descriptor = Libc.Accept4(_listener.Descriptor, null, null, Libc.SOCK_CLOEXEC);
        if (descriptor >= 0)
        {
            _connections.Add(descriptor);
            Interlocked.Increment(ref _handed);
            return true;
        }
        var errno = Marshal.GetLastPInvokeError();
        if (errno is not (Libc.EAGAIN or Libc.EINTR or Libc.ECONNABORTED))
        {
            // Out of descriptors or memory: the client stays in the backlog; try again shortly rather than spin on it.
            _log.LogWarning("{Role}: cannot accept a connection: {Error}", _role, Marshal.GetPInvokeErrorMessage(errno));
            PollInterop.WaitForWake(_wake, AcceptRetry);
        }
        return false;
    }

    /// <summary>Starts Kestrel if none runs. Under the gate, so an idle stop and a start never cross.</summary>
    private async Task EnsureServingAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_host is not null || _stopping)
            {
                return;
            }
            _handedAtLastCheck = Interlocked.Read(ref _handed);
            var transport = _connections.TransportFor(() => new SocketTransportFactory(Options.Create(new SocketTransportOptions()), _loggers));
            Volatile.Write(ref _host, await _start(new KestrelStart(_connections.EndPoint, transport, CountConnections)).ConfigureAwait(false));
            if (_idleAfter is { } idleAfter)
            {
                _idleCheck = TimeProvider.System.CreateTimer(static self => _ = ((OnDemandKestrel)self!).StopIfIdleAsync(), this, idleAfter, idleAfter);
            }
            _log.LogDebug("{Role}: server started for a client", _role);
        }
        finally
        {
            _gate.Release();
        }
    }

    private ConnectionDelegate CountConnections(ConnectionDelegate next) => async connection =>
    {
        Interlocked.Increment(ref _open);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    };

    private async Task StopIfIdleAsync()
    {
        if (!await _gate.WaitAsync(0).ConfigureAwait(false))
        {
            return;
        }
        try
        {
            var handed = Interlocked.Read(ref _handed);
            var idle = Volatile.Read(ref _open) == 0 && handed == _handedAtLastCheck && _connections.Waiting == 0;
            _handedAtLastCheck = handed;
            if (idle && !_stopping)
            {
                await StopServerAsync(CancellationToken.None).ConfigureAwait(false);
                _log.LogDebug("{Role}: idle, server stopped until the next client", _role);
            }
        }
        catch (Exception ex)
        {
            _log.LogError(ex, "{Role}: stopping the idle {Role} server failed", _role, _role);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Under the gate: stops the running Kestrel, if any; requests in flight get <paramref name="cancellationToken"/>'s time.</summary>
    private async Task StopServerAsync(CancellationToken cancellationToken)
    {
        // Not awaited: this may run in the timer's own callback; a tick already under way finds the gate taken.
        Interlocked.Exchange(ref _idleCheck, null)?.Dispose();
        if (Interlocked.Exchange(ref _host, null) is { } host)
        {
            await host.StopAsync(cancellationToken).ConfigureAwait(false);
            await host.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops accepting, then stops the running Kestrel (if any) as <see cref="KestrelHost.StopAsync"/> does.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        PollInterop.Signal(_wake);
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await StopServerAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(KestrelHost.StopLimit))
        {
            await StopAsync(timeout.Token).ConfigureAwait(false);
        }
        _acceptor.Join();
        _connections.Dispose();
        _ = Libc.Close(_wake);
        _gate.Dispose();
    }
}

/// <summary><c>poll(2)</c> on a listening socket beside an <c>eventfd</c> that ends the wait.</summary>
internal static unsafe class PollInterop
{
    public static int CreateEventFd()
    {
        var fd = Libc.EventFd(0, Libc.EFD_CLOEXEC);
        return fd >= 0 ? fd : throw new IOException($"eventfd failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Wakes every wait on <paramref name="eventFd"/>, now and later (it is never read).</summary>
    public static void Signal(int eventFd)
    {
        ulong one = 1;
        _ = Libc.Write(eventFd, &one, sizeof(ulong));
    }

    /// <summary>Blocks until <paramref name="socket"/> has a client waiting (true), or <paramref name="wake"/> is signalled or a signal interrupts (false).</summary>
    public static bool WaitReadable(int socket, int wake) => Poll(socket, wake, -1);

    /// <summary>Waits <paramref name="timeout"/>, ended early when <paramref name="wake"/> is signalled (Pilot is stopping).</summary>
    public static void WaitForWake(int wake, TimeSpan timeout) => _ = Poll(-1, wake, (int)timeout.TotalMilliseconds);

    /// <summary>poll(2) on both descriptors (a negative one is not watched); true when only the socket is readable.</summary>
    private static bool Poll(int socket, int wake, int timeoutMilliseconds)
    {
        var fds = stackalloc Libc.PollFd[2];
        fds[0] = new Libc.PollFd { Fd = socket, Events = Libc.POLLIN };
        fds[1] = new Libc.PollFd { Fd = wake, Events = Libc.POLLIN };
        return Libc.Poll(fds, 2, timeoutMilliseconds) > 0 && fds[1].Revents == 0 && fds[0].Revents != 0;
    }
}
