using Microsoft.Extensions.Hosting;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// Runs the supervisor inside the generic host: starts the orphan reaper and the signal relay, starts the jobs, and
/// stops the host (with the supervisor's exit code) once every job has halted.
/// </summary>
internal sealed class PilotSupervisorService(PilotSupervisor supervisor, OrphanReaper reaper, IHostApplicationLifetime lifetime)
    : IHostedService
{
    private SignalRelay? _signals;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        reaper.Start();
        _signals = new SignalRelay(supervisor.HandleSignal);
        await supervisor.StartAsync(cancellationToken).ConfigureAwait(false);
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
