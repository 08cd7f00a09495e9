using Microsoft.Extensions.Hosting;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// A component beside the jobs (Consul sync, telemetry) as a hosted service: the host starts it after the job graph and
/// stops it before; in between, a reload restarts it with the new config (<see cref="PilotSupervisor"/>).
/// </summary>
public sealed class ComponentService(ISupervisedComponent component, PilotSupervisor supervisor) : IHostedService
{
    /// <summary>A component that does not stop in this time is left behind: Pilot's exit does not wait on it.</summary>
    public static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(5);

    public Task StartAsync(CancellationToken cancellationToken) => supervisor.StartComponentAsync(component, cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(StopLimit);
        await supervisor.StopComponentAsync(component, limit.Token).ConfigureAwait(false);
    }
}
