using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Hosting;

/// <summary>Everything the supervisor is built from; the API host fills it in, tests swap the launcher and clock.</summary>
public sealed record PilotSupervisorOptions
{
    /// <summary>The config file, re-read on reload.</summary>
    public required string ConfigPath { get; init; }
    public required PilotConfig Config { get; init; }
    public IProcessLauncher? Launcher { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Builds the Consul registration of a job with a port; null = no discovery.</summary>
    public Func<JobConfig, PilotConfig, IServiceRegistration?>? ServiceRegistrations { get; init; }
    /// <summary>Where user metrics go; null = no telemetry metrics (every posted key is unknown).</summary>
    public IUserMetrics? UserMetrics { get; init; }
    /// <summary>Pilot's own metrics, fed from the bus and from job snapshots; null = none.</summary>
    public Telemetry.PilotMetrics? PilotMetrics { get; init; }
    /// <summary>Extra components with the supervisor's lifetime (watches, telemetry), started after the jobs.</summary>
    public ImmutableArray<ISupervisedComponent> Components { get; init; } = [];
    public string Version { get; init; } = "dev";
    /// <summary>Told when an accepted reload starts stopping the old config and when the new one is about to start.</summary>
    public Action<ReloadStage>? ReloadStages { get; init; }
}

/// <summary>The points of a reload where v3 stopped its control server and started a new one.</summary>
public enum ReloadStage
{
    /// <summary>The new config is valid; the old jobs are about to stop.</summary>
    Stopping,
    /// <summary>The new config is loaded; its jobs are about to start.</summary>
    Starting,
}
