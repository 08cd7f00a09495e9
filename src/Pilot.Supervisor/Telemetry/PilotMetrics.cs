using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Prometheus;

namespace Pilot.Supervisor.Telemetry;

/// <summary>
/// Pilot's own metrics: v3's names and labels (<c>containerpilot_events</c>, <c>containerpilot_control_http_requests</c>,
/// <c>containerpilot_watch_instances</c>) plus per-job figures v3 lacked (<c>pilot_job_*</c>).
/// </summary>
public sealed class PilotMetrics
{
    private readonly Counter _events;
    private readonly Counter _controlRequests;
    private readonly Gauge _watchInstances;
    private readonly Counter _jobRestarts;
    private readonly Gauge _jobLastExitCode;
    private readonly Gauge _jobState;
    private readonly Gauge _jobHealth;
    private readonly Histogram _jobRunDuration;
    private readonly Dictionary<string, DateTimeOffset?> _lastExitSeen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastVersion = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public PilotMetrics(CollectorRegistry registry)
    {
        Registry = registry;
        var factory = MetricFactories.For(registry);
        _events = factory.CreateCounter("containerpilot_events", "count of ContainerPilot events, partitioned by type and source", ["code", "source"]);
        _controlRequests = factory.CreateCounter("containerpilot_control_http_requests", "count of requests to control socket, partitioned by path and HTTP code", ["code", "path"]);
        _watchInstances = factory.CreateGauge("containerpilot_watch_instances", "gauge of instances found for each ContainerPilot watch, partitioned by service", ["service"]);
        _jobRestarts = factory.CreateCounter("pilot_job_restarts_total", "restarts of each job", ["job"]);
        _jobLastExitCode = factory.CreateGauge("pilot_job_last_exit_code", "exit code of the last run of each job (128+N when killed by signal N)", ["job"]);
        _jobState = factory.CreateGauge("pilot_job_state", "1 for the current state of each job, 0 for the others", ["job", "state"]);
        _jobHealth = factory.CreateGauge("pilot_job_health", "1 for the current health status of each job, 0 for the others", ["job", "status"]);
        _jobRunDuration = factory.CreateHistogram("pilot_job_run_duration_seconds", "how long each run of a job lasted", new HistogramConfiguration
        {
            LabelNames = ["job"],
            Buckets = Histogram.ExponentialBuckets(0.01, 4, 10),
        });
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Counts a bus event as v3 does (every event except <c>Metric</c>).</summary>
    public void Observe(Event e)
    {
        if (e.Code != EventCode.Metric)
        {
            _events.WithLabels(e.Code.ToString(), e.Source).Inc();
        }
    }

    public void CountControlRequest(int status, string path) =>
        _controlRequests.WithLabels(status.ToString(System.Globalization.CultureInfo.InvariantCulture), path).Inc();

    public void SetWatchInstances(string service, int count) => _watchInstances.WithLabels(service).Set(count);

    /// <summary>Updates the per-job metrics from a job's snapshot; one older than the last seen for that job is dropped.</summary>
    public void Observe(JobSnapshot job)
    {
        // One lock for the check and the update, so an older snapshot can never overwrite a newer one.
        lock (_gate)
        {
            if (_lastVersion.TryGetValue(job.Name, out var version) && job.Version <= version)
            {
                return;
            }
            _lastVersion[job.Name] = job.Version;
            _jobRestarts.WithLabels(job.Name).IncTo(job.Restarts);
            if (job.LastExitCode is { } code)
            {
                _jobLastExitCode.WithLabels(job.Name).Set(code);
            }
            foreach (var state in Enum.GetValues<JobState>())
            {
                _jobState.WithLabels(job.Name, state.ToString().ToLowerInvariant()).Set(state == job.State ? 1 : 0);
            }
            foreach (var status in Enum.GetValues<HealthStatus>())
            {
                _jobHealth.WithLabels(job.Name, status.ToString().ToLowerInvariant()).Set(status == job.Health ? 1 : 0);
            }
            _lastExitSeen.TryGetValue(job.Name, out var seen);
            if (job.LastExited is { } exited && exited != seen && job.LastStarted is { } started && exited >= started)
            {
                _lastExitSeen[job.Name] = exited;
                _jobRunDuration.WithLabels(job.Name).Observe((exited - started).TotalSeconds);
            }
        }
    }
}
