using System.Threading.Channels;
using Pilot.Supervisor.Jobs;

namespace Pilot.Supervisor.Discovery;

/// <summary>
/// A job's view of its Consul service: the job's loop only queues requests; one pump per service runs them in order
/// through the <see cref="ServiceRegistrar"/> (which retries on its own), so a slow or down Consul never blocks a job.
/// A heartbeat or registration in flight is only the latest pass so far: a newer heartbeat, a deregistration or
/// maintenance cancels it instead of queueing behind it, and heartbeats waiting their turn collapse into one, so a hung
/// agent delays nothing by more than one call once it answers again.
/// </summary>
public sealed class ConsulServiceRegistration : IServiceRegistration, IAsyncDisposable
{
    private readonly ServiceRegistrar _registrar;
    private readonly Channel<Request> _requests =
        Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly Task _pump;
    private CancellationTokenSource? _current;
    private bool _currentSupersedable;
    private int _initialQueued;
    private int _heartbeatQueued;

    /// <param name="Run">The work, given a token cancelled on dispose or when a newer request supersedes it.</param>
    /// <param name="Supersedable">True for work a newer pass makes pointless (heartbeats, registrations).</param>
    private sealed record Request(Func<CancellationToken, Task> Run, bool Supersedable);

    public ConsulServiceRegistration(ServiceRegistrar registrar)
    {
        _registrar = registrar;
        _pump = Task.Run(PumpAsync);
    }

    public void EnsureInitialRegistration()
    {
        // v3 retries before every event until it succeeds; one queued attempt at a time is enough here.
        if (!_registrar.IsRegistered && Interlocked.CompareExchange(ref _initialQueued, 1, 0) == 0)
        {
            Queue(new Request(async ct =>
            {
                try
                {
                    await _registrar.RegisterAsync(ct).ConfigureAwait(false);
                }
                finally
                {
                    Volatile.Write(ref _initialQueued, 0);
                }
            }, Supersedable: true));
        }
    }

    public void Heartbeat()
    {
        CancelSupersedable();
        if (Interlocked.Exchange(ref _heartbeatQueued, 1) == 0)
        {
            Queue(new Request(ct =>
            {
                Volatile.Write(ref _heartbeatQueued, 0);
                return _registrar.HeartbeatAsync(ct);
            }, Supersedable: true));
        }
    }

    public void EnterMaintenance()
    {
        CancelSupersedable();
        Queue(new Request(ct => _registrar.EnterMaintenanceAsync(ct), Supersedable: false));
    }

    public void ExitMaintenance() => Queue(new Request(_ =>
    {
        _registrar.ExitMaintenance();
        return Task.CompletedTask;
    }, Supersedable: false));

    public async Task DeregisterAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        CancelSupersedable();
        Queue(new Request(async ct =>
        {
            try
            {
                await _registrar.DeregisterAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                done.TrySetResult();
            }
        }, Supersedable: false));
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Queue(Request request) => _requests.Writer.TryWrite(request);

    private void CancelSupersedable()
    {
        lock (_gate)
        {
            if (_currentSupersedable)
            {
                _current?.Cancel();
            }
        }
    }

    private async Task PumpAsync()
    {
        await foreach (var request in _requests.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            using var current = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            lock (_gate)
            {
                (_current, _currentSupersedable) = (current, request.Supersedable);
            }
            try
            {
                await request.Run(current.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // Superseded (cancelled), or a failure the registrar has logged itself; it never throws for Consul errors.
            }
            finally
            {
                lock (_gate)
                {
                    (_current, _currentSupersedable) = (null, false);
                }
            }
        }
    }

    /// <summary>
    /// Cancels whatever is in flight at once: by now the job has had its deregistration within the stop window, and
    /// Pilot's exit must not wait for a Consul that does not answer.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        await _pump.ConfigureAwait(false);
        await _registrar.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
