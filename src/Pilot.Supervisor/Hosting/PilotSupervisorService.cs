using Microsoft.Extensions.Hosting;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// Runs the supervisor inside the generic host: starts the orphan reaper, the signal relay and the jobs before the
/// other services start, so the jobs start while Kestrel does (the control socket is bound and listening before the
/// host is built — v3 listens before it starts jobs, so a job may call <c>pilot -putenv</c> at once), and stops the
/// host (with the supervisor's exit code) once every job has halted.
/// </summary>
internal sealed class PilotSupervisorService(PilotSupervisor supervisor, OrphanReaper reaper, IHostApplicationLifetime lifetime)
    : IHostedLifecycleService
{
    private SignalRelay? _signals;
    private Task _starting = Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        reaper.Start();
        _signals = new SignalRelay(supervisor.HandleSignal);
        _starting = supervisor.StartAsync(cancellationToken);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        await _starting.ConfigureAwait(false);
        _ = supervisor.Completion.ContinueWith(done =>
        {
            Environment.ExitCode = done.Result;
            lifetime.StopApplication();
        }, TaskScheduler.Default);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            Environment.ExitCode = await supervisor.ShutdownAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _signals?.Dispose();
            await reaper.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>The host lifetime without console signal handling: <see cref="SignalRelay"/> owns SIGTERM/SIGINT/SIGQUIT.</summary>
internal sealed class PilotHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
