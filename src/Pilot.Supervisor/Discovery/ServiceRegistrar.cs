using Microsoft.Extensions.Logging;
using Pilot.Supervisor.Discovery.Consul;

namespace Pilot.Supervisor.Discovery;

/// <summary>
/// One service's life in Consul: registration, TTL heartbeats, maintenance, deregistration. Unlike v3 it
/// registers again whenever Consul lost the service (TTL update answering "unknown check", exit from
/// maintenance, the agent back after an outage). Failures never throw: the first one after a success is logged
/// at Warn with v3's text, the following ones at Debug, recovery at Info; meanwhile a background loop retries
/// with capped exponential backoff. Operations are serialized. Every Consul call gives up within
/// <see cref="CallTimeoutFor"/> the TTL, and a heartbeat supersedes a retry in progress, so a hung agent never makes a
/// heartbeat wait behind a stuck call.
/// </summary>
public sealed class ServiceRegistrar : IAsyncDisposable
{
    private readonly ConsulClient _consul;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Backoff _backoff;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private CancellationTokenSource? _retryCts;
    private Task _retryLoop = Task.CompletedTask;
    private bool _registered;
    private bool _maintenance;
    private bool _failing;
    private int _failures;
    private bool _heartbeatPending;
    private DateTimeOffset? _lastPass;

    /// <param name="service">What to register (see <see cref="ServiceDefinition.FromJob"/>).</param>
    /// <param name="consul">The shared client.</param>
    /// <param name="logger">Logs with v3's messages.</param>
    /// <param name="timeProvider">Drives backoff delays and heartbeat freshness.</param>
    /// <param name="backoff">Retry delays; <see cref="Backoff.Default"/> (1 s doubling to 30 s) when null.</param>
    public ServiceRegistrar(ServiceDefinition service, ConsulClient consul, ILogger logger, TimeProvider? timeProvider = null, Backoff? backoff = null)
    {
        Service = service ?? throw new ArgumentNullException(nameof(service));
        _consul = consul ?? throw new ArgumentNullException(nameof(consul));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _time = timeProvider ?? TimeProvider.System;
        _backoff = backoff ?? Backoff.Default;
        CallTimeout = CallTimeoutFor(Service.Ttl, _consul.RequestTimeout);
    }

    /// <summary>The shortest a Consul call may be given, whatever the TTL.</summary>
    public static readonly TimeSpan MinimumCallTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long one Consul call may take: half the TTL (so a call that hangs still leaves time for the next heartbeat
    /// before the check lapses), never more than the client's own limit; the client's limit when there is no TTL.
    /// </summary>
    public static TimeSpan CallTimeoutFor(TimeSpan ttl, TimeSpan requestTimeout) =>
        ttl <= TimeSpan.Zero ? requestTimeout
        : TimeSpan.FromTicks(Math.Min(requestTimeout.Ticks, Math.Max(ttl.Ticks / 2, MinimumCallTimeout.Ticks)));

    /// <summary>How long each Consul call of this service may take (<see cref="CallTimeoutFor"/>).</summary>
    public TimeSpan CallTimeout { get; }

    public ServiceDefinition Service { get; }

    /// <summary>True after a successful registration, until deregistration, maintenance, or Consul losing it.</summary>
    public bool IsRegistered => Volatile.Read(ref _registered);

    public bool InMaintenance => Volatile.Read(ref _maintenance);

    /// <summary>False between a failed Consul call and the next successful one.</summary>
    public bool IsFailing => Volatile.Read(ref _failing);

    /// <summary>True while the background retry loop is running.</summary>
    public bool IsRetrying => !_retryLoop.IsCompleted;

    /// <summary>
    /// Registers with <see cref="ServiceDefinition.InitialStatus"/> (v3 does this when the job starts, before any
    /// event); on failure retries in the background. No-op when already registered or in maintenance.
    /// </summary>
    public async Task<bool> RegisterAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_registered || _maintenance)
            {
                return _registered;
            }
            _logger.LogInformation("Registering service {Name} with initial status set to {Status}", Service.Name, Service.InitialStatus);
            var ok = await TryAsync(ct => RegisterCoreAsync(Service.InitialStatus ?? ConsulHealth.Passing, ct), "service registration failed", cancellationToken).ConfigureAwait(false);
            if (!ok)
            {
                StartRetryLoop();
            }
            return ok;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The check passed: register if Consul does not have the service (status <c>passing</c>), then
    /// <c>PUT /v1/agent/check/update/service:&lt;ID&gt;</c> <c>{"Status":"passing","Output":"ok"}</c>. A TTL update
    /// for a check Consul does not know re-registers and retries once. Ignored in maintenance.
    /// </summary>
    public async Task<bool> HeartbeatAsync(CancellationToken cancellationToken)
    {
        // A fresh pass replaces a replay of an older one: it must not wait behind the retry loop's call.
        await StopRetryLoopAsync().ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_maintenance)
            {
                return false;
            }
            _lastPass = _time.GetUtcNow();
            _heartbeatPending = true;
            var ok = await TryAsync(HeartbeatCoreAsync, "service update TTL failed", cancellationToken).ConfigureAwait(false);
            if (!ok)
            {
                StartRetryLoop();
            }
            return ok;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary><c>PUT /v1/agent/service/deregister/&lt;ID&gt;</c>; stops retries. Sent even if never registered (as v3).</summary>
    public async Task DeregisterAsync(CancellationToken cancellationToken)
    {
        await StopRetryLoopAsync().ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _heartbeatPending = false;
            _lastPass = null;
            await DeregisterCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Deregisters and ignores heartbeats until <see cref="ExitMaintenance"/>.</summary>
    public async Task EnterMaintenanceAsync(CancellationToken cancellationToken)
    {
        await StopRetryLoopAsync().ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _maintenance = true;
            _heartbeatPending = false;
            _lastPass = null;
            await DeregisterCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Leaves maintenance; the next heartbeat registers the service again (v3 never did).</summary>
    public void ExitMaintenance()
    {
        Volatile.Write(ref _maintenance, false);
        Volatile.Write(ref _registered, false);
    }

    private async Task HeartbeatCoreAsync(CancellationToken ct)
    {
        if (!_registered)
        {
            await RegisterCoreAsync(ConsulHealth.Passing, ct).ConfigureAwait(false);
        }
        try
        {
            await _consul.UpdateTtlAsync(Service.CheckId, ConsulHealth.Passing, "ok", CallTimeout, ct).ConfigureAwait(false);
        }
        catch (ConsulResponseException ex) when (ex.IsUnknownCheck)
        {
            // Consul lost the service (agent restart, reaped by DeregisterCriticalServiceAfter, removed by hand).
            _logger.LogInformation("service {Name} is no longer known to consul ({Error}); registering it again", Service.Name, ex.Message);
            _registered = false;
            await RegisterCoreAsync(ConsulHealth.Passing, ct).ConfigureAwait(false);
            await _consul.UpdateTtlAsync(Service.CheckId, ConsulHealth.Passing, "ok", CallTimeout, ct).ConfigureAwait(false);
        }
        _heartbeatPending = false;
    }

    private async Task RegisterCoreAsync(string status, CancellationToken ct)
    {
        await _consul.RegisterServiceAsync(Service.ToRegistration(status), CallTimeout, ct).ConfigureAwait(false);
        _registered = true;
        _logger.LogInformation("Service registered: {Name}", Service.Name);
    }

    private async Task DeregisterCoreAsync(CancellationToken ct)
    {
        _logger.LogDebug("deregistering: {Id}", Service.Id);
        try
        {
            await _consul.DeregisterServiceAsync(Service.Id, CallTimeout, ct).ConfigureAwait(false);
        }
        catch (ConsulResponseException ex) when (ex.StatusCode == 404)
        {
            // Already gone: that is what we wanted.
        }
        catch (ConsulException ex)
        {
            _logger.LogInformation("deregistering failed: {Error}", ex.Message);
        }
        finally
        {
            _registered = false;
        }
    }

    /// <summary>Runs one Consul operation, tracking the failing/recovered state and logging once per change.</summary>
    private async Task<bool> TryAsync(Func<CancellationToken, Task> operation, string v3Message, CancellationToken ct)
    {
        try
        {
            await operation(ct).ConfigureAwait(false);
            if (_failing)
            {
                _logger.LogInformation("consul: service {Name} back in consul after {Failures} failed attempt(s)", Service.Name, _failures);
            }
            _failing = false;
            _failures = 0;
            return true;
        }
        catch (ConsulException ex)
        {
            _failures++;
            if (!_failing)
            {
                _logger.LogWarning("{Message}: {Error}", v3Message, ex.Message);
            }
            else
            {
                _logger.LogDebug("{Message}: {Error} (attempt {Attempt})", v3Message, ex.Message, _failures);
            }
            _failing = true;
            // Whatever happened, Consul may have lost the service (an agent restart does); register again on recovery.
            _registered = false;
            return false;
        }
    }

    private void StartRetryLoop()
    {
        if (!_retryLoop.IsCompleted || _disposed.IsCancellationRequested)
        {
            return;
        }
        _retryCts?.Dispose();
        _retryCts = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
        var token = _retryCts.Token;
        _retryLoop = Task.Run(() => RetryLoopAsync(token), CancellationToken.None);
    }

    private async Task RetryLoopAsync(CancellationToken ct)
    {
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                await Task.Delay(_backoff.Next(attempt), _time, ct).ConfigureAwait(false);
                await _gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    if (_maintenance)
                    {
                        return;
                    }
                    // A heartbeat is only replayed while its pass is fresher than the TTL: a stale pass says
                    // nothing about the service's health now, and the next real heartbeat will register it.
                    var fresh = _lastPass is { } at && _time.GetUtcNow() - at < Service.Ttl;
                    Func<CancellationToken, Task>? work =
                        fresh && (_heartbeatPending || !_registered) ? HeartbeatCoreAsync
                        : !_registered && _lastPass is null && Service.InitialStatus is { } initial ? c => RegisterCoreAsync(initial, c)
                        : null;
                    if (work is null)
                    {
                        return;
                    }
                    if (await TryAsync(work, "consul retry failed", ct).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                finally
                {
                    _gate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task StopRetryLoopAsync()
    {
        var cts = _retryCts;
        if (cts is not null)
        {
            await cts.CancelAsync().ConfigureAwait(false);
        }
        await _retryLoop.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync().ConfigureAwait(false);
        await _retryLoop.ConfigureAwait(false);
        _retryCts?.Dispose();
        _disposed.Dispose();
        _gate.Dispose();
    }
}
