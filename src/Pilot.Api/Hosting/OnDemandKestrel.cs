using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Pilot.Api.Hosting;

/// <summary>
/// Kestrel on a listening socket (the control socket; the telemetry port) only while clients use it. A running
/// Kestrel's heartbeat formats a new <c>Date</c> header value and walks its connections every second, ≈240 bytes of
/// garbage a second for as long as it runs (heap dumps of an idle Pilot, issue 14), and it has no switch. So while
/// nobody calls, no Kestrel runs: one thread blocks in
/// <c>poll(2)</c> on the listening socket, starts Kestrel on a duplicate of it when a client connects (the client waits
/// in the backlog meanwhile, as it does at start-up), and Kestrel stops again once it has had no connection for
/// <see cref="IdleAfter"/>. Connections that arrive while it stops stay in the backlog and start the next one.
/// </summary>
internal sealed class OnDemandKestrel : IAsyncDisposable
{
    /// <summary>By default, how long Kestrel stays up without any connection (several CLI calls in a row share one start).</summary>
    public static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(10);

    private readonly ListeningSocket _listener;
    private readonly string _role;
    private readonly Func<ulong, Func<ConnectionDelegate, ConnectionDelegate>, Task<KestrelHost>> _start;
    private readonly ILogger _log;
    private readonly TimeSpan _idleAfter;
    private readonly Action<bool>? _servingChanged;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ManualResetEventSlim _serverGone = new(false);
    private readonly int _wake;
    private readonly Thread _waiter;
    private KestrelHost? _host;
    private ITimer? _idleCheck;
    private volatile bool _stopping;
    private int _open;
    private long _accepted;
    private long _acceptedAtLastCheck;

    /// <param name="role">What the listener is, for its log lines and its thread's name: "control", "telemetry".</param>
    /// <param name="start">Starts a Kestrel listening on the given handle, with the given connection middleware first.</param>
    public OnDemandKestrel(string role, ListeningSocket listener, Func<ulong, Func<ConnectionDelegate, ConnectionDelegate>, Task<KestrelHost>> start,
        ILogger log, TimeSpan idleAfter, Action<bool>? servingChanged)
    {
        _role = role;
        _listener = listener;
        _start = start;
        _log = log;
        _idleAfter = idleAfter;
        _servingChanged = servingChanged;
        _wake = PollInterop.CreateEventFd();
        _waiter = new Thread(WaitForClients, maxStackSize: 256 * 1024) { IsBackground = true, Name = $"Pilot {role} socket" };
        _waiter.Start();
    }

    /// <summary>True while a Kestrel serves the socket.</summary>
    public bool IsServing => Volatile.Read(ref _host) is not null;

    private void WaitForClients()
    {
        while (!_stopping)
        {
            if (!PollInterop.WaitReadable(_listener.Descriptor, _wake) || _stopping)
            {
                continue;
            }
            _serverGone.Reset();
            try
            {
                StartAsync().GetAwaiter().GetResult();
            }
            catch (Exception ex) when (!_stopping)
            {
                // The client stays in the backlog; try again shortly rather than spin on it.
                _log.LogError(ex, "{Role}: cannot start the {Role} server", _role, _role);
                _serverGone.Wait(TimeSpan.FromSeconds(1));
                continue;
            }
            _serverGone.Wait();
        }
    }

    private async Task StartAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_stopping)
            {
                return;
            }
            _acceptedAtLastCheck = Interlocked.Read(ref _accepted);
            _host = await _listener.StartKestrelAsync(handle => _start(handle, CountConnections)).ConfigureAwait(false);
            _idleCheck = TimeProvider.System.CreateTimer(static self => _ = ((OnDemandKestrel)self!).StopIfIdleAsync(), this, _idleAfter, _idleAfter);
            _servingChanged?.Invoke(true);
        }
        finally
        {
            _gate.Release();
        }
    }

    private ConnectionDelegate CountConnections(ConnectionDelegate next) => async connection =>
    {
        Interlocked.Increment(ref _open);
        Interlocked.Increment(ref _accepted);
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
            var accepted = Interlocked.Read(ref _accepted);
            var idle = Volatile.Read(ref _open) == 0 && accepted == _acceptedAtLastCheck;
            _acceptedAtLastCheck = accepted;
            if (idle && !_stopping)
            {
                await StopServerAsync(CancellationToken.None).ConfigureAwait(false);
                _serverGone.Set();
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
            _servingChanged?.Invoke(false);
        }
    }

    /// <summary>Stops waiting for clients, then stops the running Kestrel (if any) as <see cref="KestrelHost.StopAsync"/> does.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        PollInterop.Signal(_wake);
        _serverGone.Set();
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
        _waiter.Join();
        _ = Libc.Close(_wake);
        _serverGone.Dispose();
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

    /// <summary>Blocks until <paramref name="socket"/> has a client waiting (true) or <paramref name="wake"/> is signalled or a signal interrupts (false).</summary>
    public static bool WaitReadable(int socket, int wake)
    {
        var fds = stackalloc Libc.PollFd[2];
        fds[0] = new Libc.PollFd { Fd = socket, Events = Libc.POLLIN };
        fds[1] = new Libc.PollFd { Fd = wake, Events = Libc.POLLIN };
        return Libc.Poll(fds, 2, -1) > 0 && fds[1].Revents == 0 && fds[0].Revents != 0;
    }
}
