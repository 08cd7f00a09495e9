using System.Threading.Channels;
using Pilot.Supervisor.Jobs;

namespace Pilot.Supervisor.Discovery;

/// <summary>
/// A job's view of its Consul service: the job's loop only queues requests; one pump per service runs them in order
/// through the <see cref="ServiceRegistrar"/> (which retries on its own), so a slow or down Consul never blocks a job.
/// </summary>
public sealed class ConsulServiceRegistration : IServiceRegistration, IAsyncDisposable
{
    private readonly ServiceRegistrar _registrar;
    private readonly Channel<Func<CancellationToken, Task>> _requests =
        Channel.CreateUnbounded<Func<CancellationToken, Task>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private int _initialQueued;

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
            Queue(async ct =>
            {
                try
                {
                    await _registrar.RegisterAsync(ct).ConfigureAwait(false);
                }
                finally
                {
                    Volatile.Write(ref _initialQueued, 0);
                }
            });
        }
    }

    public void Heartbeat() => Queue(ct => _registrar.HeartbeatAsync(ct));

    public void EnterMaintenance() => Queue(ct => _registrar.EnterMaintenanceAsync(ct));

    public void ExitMaintenance() => Queue(_ =>
    {
        _registrar.ExitMaintenance();
        return Task.CompletedTask;
    });

    public async Task DeregisterAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Queue(async ct =>
        {
            try
            {
                await _registrar.DeregisterAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                done.TrySetResult();
            }
        });
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Queue(Func<CancellationToken, Task> request) => _requests.Writer.TryWrite(request);

    private async Task PumpAsync()
    {
        await foreach (var request in _requests.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await request(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // The registrar logs its own failures and never throws for Consul errors; nothing to add here.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        await _pump.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await _registrar.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
