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

    /// <summary>
    /// Re-reads the config file. Invalid → the running config stays and the errors are returned. Reloads run one at a
    /// time, owned by the supervisor: <paramref name="cancellationToken"/> ends only the caller's wait, never the reload.
    /// </summary>
    Task<ReloadResult> ReloadAsync(CancellationToken cancellationToken);

    /// <summary>Enters or leaves maintenance. Returns whether the state changed.</summary>
    Task<bool> SetMaintenanceAsync(bool enabled, CancellationToken cancellationToken);

    /// <summary>Feeds user metrics; unknown names and negative counter increments are rejected, nothing applied.</summary>
    MetricPutResult PutMetrics(IReadOnlyDictionary<string, double> values);

    SupervisorSnapshot GetStatus();

    /// <summary>The config in force (the last one loaded or reloaded), for <c>GET /v3/graph</c> and <c>pilot why</c>.</summary>
    PilotConfig GetConfig();

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
public enum JobCommand
{
    /// <summary>Terminate the run and stay stopped: triggers are ignored until Start or Restart.</summary>
    Stop,
    /// <summary>Run now (a stopped job starts again; a running one is left alone).</summary>
    Start,
    /// <summary>Stop (unless stopped), then start.</summary>
    Restart,
    /// <summary>Supervisor only: halt for good as on shutdown, whatever the trigger (a reload removes or replaces the job).</summary>
    Retire,
    /// <summary>Supervisor only: SIGKILL every process group of the job now (the global stop window has ended).</summary>
    Kill,
}

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

/// <summary>Lifecycle of a job: the states of its state machine (see docs/job-states.md and Jobs/JobMachine.cs).</summary>
public enum JobState
{
    /// <summary>Created; its loop has not begun.</summary>
    Idle,
    /// <summary>Waiting for its first start (v3's status "idle": health checks do not run yet).</summary>
    Waiting,
    /// <summary>Launching its exec (passes within one step of the loop; never seen from outside).</summary>
    Starting,
    /// <summary>Its exec is alive (a job without exec stays here once started).</summary>
    Running,
    /// <summary>Its exec is alive and one more start is queued for when it exits (triggers coalesce; a restart command).</summary>
    RestartQueued,
    /// <summary>Its last run ended; it waits for its next trigger, restart or interval.</summary>
    Exited,
    /// <summary>A stop command is terminating its run; then <see cref="Stopped"/>.</summary>
    Holding,
    /// <summary>Stopped by a command (<c>pilot stop</c>): no process, triggers ignored, until a start or restart command.</summary>
    Stopped,
    /// <summary>Halting: it published <c>stopping</c> and waits for its stopping-dependents (within its stop budget).</summary>
    Stopping,
    /// <summary>Halting: the stop signal to its process groups, SIGKILL when the stop budget ends (the job machine's kill timer).</summary>
    Terminating,
    /// <summary>Halting: removing its service from Consul.</summary>
    Deregistering,
    /// <summary>Halted; it published <c>stopped</c> and left the bus.</summary>
    Completed,
}

public enum HealthStatus { Unknown, Healthy, Unhealthy, Maintenance }

/// <summary>
/// An immutable view of one job, published by the job's loop after each step. <see cref="Version"/> grows across all
/// jobs of a supervisor, so a consumer keeps the newest and drops an older one that arrives late.
/// </summary>
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

    // Pilot's lifecycle extensions (issue 17).
    /// <summary><c>restartBackoff</c>: the delay of the last backed-off restart; null before the first or without a backoff.</summary>
    public TimeSpan? RestartDelay { get; init; }
    /// <summary><c>restartBackoff</c>: when the restart that waits for its delay is due; null when none waits.</summary>
    public DateTimeOffset? NextRestart { get; init; }
    /// <summary>While stopping: the jobs whose <c>stopped</c> it waits for before it terminates its processes.</summary>
    public ImmutableHashSet<string> WaitingFor { get; init; } = [];
    public RestartBackoffConfig? RestartBackoff { get; init; }
    public int StopSignal { get; init; } = Processes.SignalNames.SIGTERM;
    public ExitAction OnSuccess { get; init; }
    public ExitAction OnFailure { get; init; }
    // Pilot extensions (issue 17).
    /// <summary>What its health check runs: <c>exec</c>, <c>http</c>, <c>tcp</c>; null without one.</summary>
    public string? Check { get; init; }
    /// <summary>Its <c>user</c>/<c>group</c> as written (<c>user:group</c>); null when it runs as Pilot.</summary>
    public string? User { get; init; }
    /// <summary>Its <c>when.cron</c> expression; null without one.</summary>
    public string? Cron { get; init; }
    /// <summary>A cron job: when its next scheduled run is due; null otherwise.</summary>
    public DateTimeOffset? NextRun { get; init; }
    /// <summary>While its <c>when.timeout</c> counts (no start yet): when it gives up waiting; null otherwise.</summary>
    public DateTimeOffset? WhenTimeoutDue { get; init; }
    // Pilot extension (issue 27).
    /// <summary><c>health.notify</c>: what the job said on its notify socket; null for other jobs.</summary>
    public NotifyState? Notify { get; init; }
}

public sealed record WatchSnapshot(string Name, ImmutableArray<WatchInstance> Instances, DateTimeOffset? LastChecked);

public sealed record WatchInstance(string Id, string Address, int Port);

public sealed record SupervisorSnapshot(
    string Version,
    bool Maintenance,
    ImmutableArray<JobSnapshot> Jobs,
    ImmutableArray<WatchSnapshot> Watches)
{
    // Pilot's lifecycle extensions (issue 17).
    public ShutdownOrder ShutdownOrder { get; init; }
    public bool ShuttingDown { get; init; }

    /// <summary>During a shutdown: the jobs other jobs wait for before they stop.</summary>
    public ImmutableArray<string> HoldingShutdown => ShuttingDown
        ? [.. Jobs.SelectMany(j => j.WaitingFor).Distinct().Order(StringComparer.Ordinal)]
        : [];
}
