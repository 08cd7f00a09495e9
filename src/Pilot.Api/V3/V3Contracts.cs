using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilot.Api.V3;

// Wire shapes of the v3 control plane. Kept apart from the supervisor's domain records so the
// wire format only changes on purpose.

/// <summary>An RFC 7807 problem: what is wrong with a request, with one entry per finding.</summary>
public sealed record ProblemResponse
{
    public string Type { get; init; } = "about:blank";
    public required string Title { get; init; }
    public required int Status { get; init; }
    public string? Detail { get; init; }
    /// <summary>Every finding; for a body, <c>path</c> is the JSON key at fault.</summary>
    public IReadOnlyList<ProblemError>? Errors { get; init; }
}

/// <summary>One finding: where (a body key, or a config path such as <c>jobs[2].when.interval</c>) and what.</summary>
public sealed record ProblemError(string Path, string Message, int? Line = null);

/// <summary>Plain success answer of <c>/v3/ping</c>, <c>/v3/environ</c> and <c>/v3/metric</c>.</summary>
public sealed record OkResponse(bool Ok)
{
    public static readonly OkResponse Instance = new(true);
}

/// <summary>Answer of <c>/v3/maintenance/*</c>: whether the maintenance state changed (the v3 docs' shape).</summary>
public sealed record MaintenanceResponse(bool Updated);

/// <summary>Answer of a successful <c>/v3/reload</c>.</summary>
public sealed record ReloadResponse(bool Reloaded);

/// <summary>Answer of <c>/v3/status</c>.</summary>
public sealed record StatusResponse(
    string Version,
    bool Maintenance,
    IReadOnlyList<JobResponse> Jobs,
    IReadOnlyList<WatchResponse> Watches)
{
    /// <summary><c>together</c> (v3) or <c>dependencies</c>.</summary>
    public string ShutdownOrder { get; init; } = "together";
    /// <summary>During a shutdown: the jobs that other jobs wait for before they stop; absent otherwise.</summary>
    public IReadOnlyList<string>? HoldingShutdown { get; init; }
}

/// <summary>One job as <c>/v3/status</c> and <c>/v3/jobs/{name}</c> show it.</summary>
public sealed record JobResponse
{
    public required string Name { get; init; }
    /// <summary>idle, waiting, running, restartQueued, exited, holding, stopped (by an operator), stopping, terminating, deregistering or completed (docs/job-states.md).</summary>
    public required string State { get; init; }
    /// <summary>unknown, healthy, unhealthy or maintenance.</summary>
    public required string Health { get; init; }
    public int? Pid { get; init; }
    public int Restarts { get; init; }
    public int? LastExitCode { get; init; }
    public DateTimeOffset? LastStarted { get; init; }
    public DateTimeOffset? LastExited { get; init; }
    public DateTimeOffset? LastEvent { get; init; }
    public bool IsService { get; init; }
    public long Version { get; init; }

    // Pilot's lifecycle extensions (README: restartBackoff, stopSignal, onSuccess / onFailure, shutdownOrder).
    /// <summary>While the job is stopping: the jobs whose stop it waits for; absent otherwise.</summary>
    public IReadOnlyList<string>? WaitingFor { get; init; }
    /// <summary>The job's <c>restartBackoff</c> and where it stands; absent without one.</summary>
    public RestartBackoffResponse? RestartBackoff { get; init; }
    /// <summary>The signal the job's process group gets when Pilot stops it, e.g. <c>SIGTERM</c> (or its number).</summary>
    public string StopSignal { get; init; } = "SIGTERM";
    /// <summary><c>continue</c> or <c>shutdown</c>.</summary>
    public string OnSuccess { get; init; } = "continue";
    /// <summary><c>continue</c> or <c>shutdown</c>.</summary>
    public string OnFailure { get; init; } = "continue";
    /// <summary>What the job's health check runs: exec, http or tcp; absent without a check.</summary>
    public string? Check { get; init; }
    /// <summary>The job's <c>user</c> (and <c>:group</c>) as configured; absent when it runs as Pilot's user.</summary>
    public string? User { get; init; }
    /// <summary>The job's <c>when.cron</c> expression; absent without one.</summary>
    public string? Cron { get; init; }
    /// <summary>A cron job's next scheduled run; absent otherwise.</summary>
    public DateTimeOffset? NextRun { get; init; }
    /// <summary>While the job still waits for its trigger under a <c>when.timeout</c>: when it gives up; absent otherwise.</summary>
    public DateTimeOffset? WhenTimeoutDue { get; init; }

    // What the job costs (issue 27), read from /proc at request time: its process group (led by its pid) in this run.
    /// <summary>CPU time (user + system, in seconds) of the job's process group in its current run, children it reaped included; absent without a process.</summary>
    public double? CpuSeconds { get; init; }
    /// <summary>Average CPU use since the run started, in percent of one core (<c>cpuSeconds</c> ÷ uptime); absent without a process.</summary>
    public double? CpuPercent { get; init; }
    /// <summary>Resident memory of the job's process group: the sum of its processes' RSS, in bytes; absent without a process.</summary>
    public long? MemoryBytes { get; init; }
    /// <summary>How many processes the job's process group has; absent without a process.</summary>
    public int? Processes { get; init; }
    /// <summary><c>health.notify</c>: what the job said over its notify socket (sd_notify); absent for other jobs.</summary>
    public NotifyResponse? Notify { get; init; }
}

/// <summary>
/// A <c>health.notify</c> job's word over <c>NOTIFY_SOCKET</c> (systemd's protocol): about its current run, and the
/// datagrams refused over its whole life.
/// </summary>
public sealed record NotifyResponse
{
    /// <summary>The socket's path, as the job gets it in <c>NOTIFY_SOCKET</c>; absent when it could not be made.</summary>
    public string? Socket { get; init; }
    /// <summary>The run sent <c>READY=1</c>.</summary>
    public bool Ready { get; init; }
    /// <summary>The run's last <c>STATUS=</c> text; absent before one.</summary>
    public string? Status { get; init; }
    /// <summary>The run sent <c>STOPPING=1</c>.</summary>
    public bool Stopping { get; init; }
    /// <summary>The run sent <c>RELOADING=1</c> and no <c>READY=1</c> since.</summary>
    public bool Reloading { get; init; }
    /// <summary>When the run last sent <c>WATCHDOG=1</c>; absent before one.</summary>
    public DateTimeOffset? LastWatchdog { get; init; }
    /// <summary>No <c>WATCHDOG=1</c> came within <c>health.ttl</c>: unhealthy until the next one.</summary>
    public bool WatchdogMissed { get; init; }
    /// <summary>Datagrams taken from the job's processes.</summary>
    public long Accepted { get; init; }
    /// <summary>Datagrams ignored: from a process that is not the job's run or one of its processes.</summary>
    public long Foreign { get; init; }
    /// <summary>Datagrams ignored: longer than 4096 bytes.</summary>
    public long Oversized { get; init; }
    /// <summary>Datagrams ignored: not UTF-8 <c>KEY=VALUE</c> lines, or without the sender's credentials.</summary>
    public long Malformed { get; init; }
}

/// <summary>A job's <c>restartBackoff</c> (durations as Go durations) with its current delay and the next restart's due time.</summary>
public sealed record RestartBackoffResponse
{
    public required string Initial { get; init; }
    public double Factor { get; init; }
    public required string Max { get; init; }
    public double Jitter { get; init; }
    public required string ResetAfter { get; init; }
    /// <summary>The delay of the last backed-off restart; absent before the first.</summary>
    public string? Delay { get; init; }
    /// <summary>When the restart waiting for its delay is due; absent when none waits.</summary>
    public DateTimeOffset? NextRestart { get; init; }
}

public sealed record WatchResponse(string Name, IReadOnlyList<WatchInstanceResponse> Instances, DateTimeOffset? LastChecked);

public sealed record WatchInstanceResponse(string Id, string Address, int Port);

/// <summary>Answer of <c>POST /v3/jobs/{name}/stop|start|restart</c>: whether anything changed, and the job right after.</summary>
public sealed record JobCommandResponse(bool Changed, JobResponse Job);

/// <summary>Answer of <c>GET /v3/jobs/{name}/logs</c>: the job's and its health check's recent output, oldest first.</summary>
public sealed record JobLogsResponse(string Name, IReadOnlyList<LogLineResponse> Lines);

/// <summary>One output line: when Pilot read it, from the job or <c>check.&lt;job&gt;</c>, which process and stream.</summary>
public sealed record LogLineResponse(DateTimeOffset Time, string Source, int Pid, string Stream, string Text);

/// <summary>One bus event as <c>/v3/events</c> streams it: <c>{"code":"exitSuccess","source":"app"}</c>.</summary>
public sealed record EventResponse(string Code, string Source);

/// <summary>Answer of <c>GET /v3/graph</c>: the job graph of the config in force (what <c>pilot graph</c> draws).</summary>
public sealed record GraphResponse(IReadOnlyList<GraphNodeResponse> Nodes, IReadOnlyList<GraphEdgeResponse> Edges, IReadOnlyList<GraphTrapResponse> Traps);

/// <summary>A node: a job, a watch (<c>watch.NAME</c>), a signal, <c>global</c>, or a <c>when.source</c> that names nothing (<c>missing</c>).</summary>
public sealed record GraphNodeResponse
{
    public required string Id { get; init; }
    /// <summary>job, watch, signal, global or missing.</summary>
    public required string Kind { get; init; }
    public required string Label { get; init; }
    /// <summary>Short facts about a job: its health check, port, restarts.</summary>
    public IReadOnlyList<string> Details { get; init; } = [];
    /// <summary>True when a trap keeps this job from starting, or for a missing source.</summary>
    public bool Trap { get; init; }
}

/// <summary>An edge: a <c>when</c> (trigger), a pre-stop or post-stop job, or a shutdown dependency (stopsAfter).</summary>
public sealed record GraphEdgeResponse
{
    public required string From { get; init; }
    public required string To { get; init; }
    /// <summary>trigger, preStop, postStop or stopsAfter.</summary>
    public required string Kind { get; init; }
    /// <summary>The event's config name (healthy, exitSuccess, stopping…; interval or cron for periodic jobs; the signal's name); absent for stopsAfter.</summary>
    public string? Event { get; init; }
    /// <summary>True for <c>each</c>, false for <c>once</c>.</summary>
    public bool Each { get; init; }
    /// <summary>True when the source is the job's health check (<c>check.NAME</c>).</summary>
    public bool Check { get; init; }
    /// <summary><c>when.timeout</c> as a Go duration; absent without one.</summary>
    public string? Timeout { get; init; }
    /// <summary>A periodic job's schedule: <c>every 10s</c> or <c>cron …</c>; absent otherwise.</summary>
    public string? Schedule { get; init; }
    /// <summary>True when this edge can never fire.</summary>
    public bool Trap { get; init; }
    /// <summary>The edge's text as <c>pilot graph</c> draws it.</summary>
    public required string Label { get; init; }
}

/// <summary>A trap: a <c>when</c> that never fires, the job it keeps from starting, and why.</summary>
/// <param name="Kind">no-event, unknown-source, never-emitted, cycle or starved (docs/configuration.md).</param>
public sealed record GraphTrapResponse(string Kind, string Job, string Message);

/// <summary>Answer of <c>GET /v3/jobs/{name}/why</c>: one line saying what the job waits for now.</summary>
public sealed record WhyResponse(string Name, string Reason);

/// <summary>All JSON of the control plane and its client goes through this source-generated context (Native AOT).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ProblemResponse))]
[JsonSerializable(typeof(OkResponse))]
[JsonSerializable(typeof(MaintenanceResponse))]
[JsonSerializable(typeof(ReloadResponse))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(JobResponse))]
[JsonSerializable(typeof(RestartBackoffResponse))]
[JsonSerializable(typeof(NotifyResponse))]
[JsonSerializable(typeof(EventResponse))]
[JsonSerializable(typeof(JobCommandResponse))]
[JsonSerializable(typeof(JobLogsResponse))]
[JsonSerializable(typeof(LogLineResponse))]
[JsonSerializable(typeof(GraphResponse))]
[JsonSerializable(typeof(WhyResponse))]
// Query parameters (GET /v3/jobs/{name}/logs): the OpenAPI generator asks for their metadata too.
[JsonSerializable(typeof(int?))]
[JsonSerializable(typeof(bool?))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, double>))]
public sealed partial class PilotApiJsonContext : JsonSerializerContext;
