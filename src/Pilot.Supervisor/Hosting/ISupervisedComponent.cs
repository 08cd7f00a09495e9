using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;

namespace Pilot.Supervisor.Hosting;

/// <summary>A part of Pilot that lives beside the jobs (watches, telemetry listener) and restarts on reload.</summary>
public interface ISupervisedComponent
{
    Task StartAsync(PilotConfig config, EventBus bus, CancellationToken cancellationToken);
    Task StopAsync(CancellationToken cancellationToken);
    ImmutableArray<WatchSnapshot> Watches => [];
}
