using Microsoft.Extensions.Hosting;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// What Pilot owes as PID 1, as a hosted service started before the job graph and stopped after it: the orphan reaper
/// runs, and the signals kept since Pilot started go to the supervisor (a SIGTERM already kept means no job starts).
/// Stopped, the signals are kept again by the relay (its owner releases them).
/// </summary>
public sealed class InitService(OrphanReaper reaper, SignalRelay signals, PilotSupervisor supervisor) : IHostedService, IAsyncDisposable
{
    private int _stopped;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        reaper.Start();
        signals.Attach(supervisor.HandleSignal);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }
        signals.Detach();
        await reaper.DisposeAsync().ConfigureAwait(false);
    }
}
