using Microsoft.Extensions.Hosting;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// Runs the supervisor inside the generic host: starts the orphan reaper and the signal relay, starts the jobs once
/// every other service (the control socket) is up — as v3 listens before it starts jobs, so a job may call
/// <c>pilot -putenv</c> at once — and stops the host (with the supervisor's exit code) once every job has halted.
/// </summary>
internal sealed class PilotSupervisorService(PilotSupervisor supervisor, OrphanReaper reaper, IHostApplicationLifetime lifetime,
    SignalRelay signals)
    : IHostedLifecycleService
{
    private Task _stopWhenDone = Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        reaper.Start();
        // Signals kept since Pilot started are handled now: a SIGTERM during start-up means no job starts.
        signals.Attach(supervisor.HandleSignal);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        await supervisor.StartAsync(cancellationToken).ConfigureAwait(false);
        _stopWhenDone = StopWhenDoneAsync();
    }

    /// <summary>Once every job has halted, the host stops with the supervisor's exit code.</summary>
    private async Task StopWhenDoneAsync()
    {
        Environment.ExitCode = await supervisor.Completion.ConfigureAwait(false);
        lifetime.StopApplication();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            Environment.ExitCode = await supervisor.ShutdownAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            await _stopWhenDone.ConfigureAwait(false);
        }
        finally
        {
            signals.Detach();
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
