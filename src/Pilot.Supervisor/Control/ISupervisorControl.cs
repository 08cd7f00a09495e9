using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Logging;

namespace Pilot.Supervisor.Control;

/// <summary>
/// The narrow surface the control plane (Pilot.Api) uses: commands and snapshot queries.
/// The API never reaches into a job.
/// </summary>
public interface ISupervisorControl
{
    /// <summary>Sets variables in Pilot's environment (seen by every later child and template render). Empty value sets empty.</summary>
    void PutEnvironment(IReadOnlyDictionary<string, string> variables);

    /// <summary>Re-reads the config file. Invalid → the running config stays and the errors are returned.</summary>
    Task<ReloadResult> ReloadAsync(CancellationToken cancellationToken);

    /// <summary>Enters or leaves maintenance. Returns whether the state changed.</summary>
    Task<bool> SetMaintenanceAsync(bool enabled, CancellationToken cancellationToken);

    /// <summary>Feeds user metrics; unknown names and negative counter increments are rejected, nothing applied.</summary>
    MetricPutResult PutMetrics(IReadOnlyDictionary<string, double> values);

    SupervisorSnapshot GetStatus();

    /// <summary>Every event published after the call, optionally only from <paramref name="source"/>.</summary>
    IAsyncEnumerable<Event> WatchEvents(string? source, CancellationToken cancellationToken);

    /// <summary>Stops, starts or restarts one job through its own state machine; completes when the command is done.</summary>
    Task<JobCommandResult> ControlJobAsync(string name, JobCommand command, CancellationToken cancellationToken);

    /// <summary>The last <paramref name="lines"/> kept output lines of a job and its health check, oldest first.</summary>
    IReadOnlyList<RecordedLine> GetJobOutput(string name, int lines);

    /// <summary>The last <paramref name="lines"/> kept output lines of a job and its health check, then every new one.</summary>
    IAsyncEnumerable<RecordedLine> FollowJobOutput(string name, int lines, CancellationToken cancellationToken);
}

/// <summary>What an operator asks of one job (<c>pilot stop|start|restart JOB</c>).</summary>
public enum JobCommand { Stop, Start, Restart }

public enum JobCommandOutcome
{
    /// <summary>The job was stopped, started or restarted.</summary>
    Done,
    /// <summary>Nothing to do: stop of a stopped job, start of a running one.</summary>
    Unchanged,
    /// <summary>There is no job with that name.</summary>
    NotFound,
    /// <summary>The job has halted for good (completed); only a reload brings it back.</summary>
    Halted,
}

/// <summary>The outcome and the job's state right after the command (null when not found).</summary>
public sealed record JobCommandResult(JobCommandOutcome Outcome, JobSnapshot? Job);

public sealed record ReloadResult(bool Reloaded, ImmutableArray<ConfigError> Errors);

public sealed record MetricPutResult(ImmutableArray<string> Errors)
{
    public bool Ok => Errors.IsEmpty;
    public static readonly MetricPutResult Success = new(ImmutableArray<string>.Empty);
}

/// <summary>Lifecycle of a job (see docs/job-states.md).</summary>
public enum JobState
{
    /// <summary>Created, loop not started.</summary>
    Idle,
    /// <summary>Waiting for its trigger, a restart or the next interval; no process.</summary>
    Waiting,
    /// <summary>Its exec is alive.</summary>
    Running,
    /// <summary>Publishing stopping, waiting for dependents, terminating its processes.</summary>
    Stopping,
    /// <summary>Stopped by an operator (<c>pilot stop</c>): no process, triggers ignored until it is started.</summary>
    Stopped,
    /// <summary>Halted; it published stopped and left the bus.</summary>
    Completed,
}

public enum HealthStatus { Unknown, Healthy, Unhealthy, Maintenance }

/// <summary>An immutable view of one job, replaced with <c>with</c> on every change.</summary>
public sealed record JobSnapshot
{
    public required string Name { get; init; }
    public JobState State { get; init; }
    public HealthStatus Health { get; init; }
    public int? Pid { get; init; }
    public int Restarts { get; init; }
    public int? LastExitCode { get; init; }
    public DateTimeOffset? LastStarted { get; init; }
    public DateTimeOffset? LastExited { get; init; }
    public DateTimeOffset? LastEvent { get; init; }
    public bool IsService { get; init; }
    public long Version { get; init; }
}

public sealed record WatchSnapshot(string Name, ImmutableArray<WatchInstance> Instances, DateTimeOffset? LastChecked);

public sealed record WatchInstance(string Id, string Address, int Port);

public sealed record SupervisorSnapshot(
    string Version,
    bool Maintenance,
    ImmutableArray<JobSnapshot> Jobs,
    ImmutableArray<WatchSnapshot> Watches);
