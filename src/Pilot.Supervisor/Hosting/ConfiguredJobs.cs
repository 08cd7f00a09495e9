using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Jobs;

namespace Pilot.Supervisor.Hosting;

/// <summary>A job of the graph: its config, the pre-stop jobs its every stop waits for, and (with an ordered shutdown) the jobs its shutdown waits for.</summary>
public sealed record ConfiguredJob(JobConfig Config, ImmutableArray<string> StoppingDependents, ImmutableHashSet<string>? ShutdownDependents);

/// <summary>
/// The jobs a config runs (the supervisor's job graph), as a pure function: its own jobs plus the telemetry job when telemetry is on, each with the
/// jobs its stop waits for. Pure (no processes), so it is tested on its own.
/// </summary>
public sealed class ConfiguredJobs
{
    private readonly ILookup<string, string> _stoppingDependents;
    private readonly ImmutableDictionary<string, ImmutableHashSet<string>>? _shutdownDependents;

    private ConfiguredJobs(PilotConfig config)
    {
        Jobs = JobsOf(config);
        // Jobs started by `stopping` of X make X wait for their `stopped` before it terminates its processes.
        _stoppingDependents = Jobs
            .Where(job => job.When.Trigger.Code == EventCode.Stopping)
            .ToLookup(job => job.When.Trigger.Source, job => job.Name, StringComparer.Ordinal);
        _shutdownDependents = config.ShutdownOrder == ShutdownOrder.Dependencies ? ShutdownOrdering.WaitsFor(Jobs) : null;
    }

    /// <summary>Every job of the config, in its order (the telemetry job last).</summary>
    public ImmutableArray<JobConfig> Jobs { get; }

    public static ConfiguredJobs Of(PilotConfig config) => new(config);

    /// <summary><paramref name="job"/> (one of <see cref="Jobs"/>) with what its stops wait for.</summary>
    public ConfiguredJob NodeOf(JobConfig job) => new(
        job,
        [.. _stoppingDependents[job.Name]],
        _shutdownDependents?.GetValueOrDefault(job.Name));

    /// <summary>The jobs the config runs: its own, plus the telemetry service job when telemetry is on (v3 registers it in Consul).</summary>
    public static ImmutableArray<JobConfig> JobsOf(PilotConfig config)
    {
        if (config.Telemetry is not { } telemetry || config.Jobs.Any(j => j.Name == JobConfig.TelemetryJobName))
        {
            return config.Jobs;
        }
        var telemetryJob = new JobConfig
        {
            Name = JobConfig.TelemetryJobName,
            Port = telemetry.Port,
            Interfaces = telemetry.Interfaces,
            Tags = telemetry.Tags,
            Health = new HealthConfig { Interval = TimeSpan.FromSeconds(5), TtlSeconds = 15 },
        };
        return config.Jobs.Add(telemetryJob);
    }
}
