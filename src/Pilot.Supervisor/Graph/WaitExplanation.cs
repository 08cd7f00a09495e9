using System.Globalization;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Config.Decoding;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;

namespace Pilot.Supervisor.Graph;

/// <summary>
/// <c>pilot why JOB</c>: one line saying what a job is waiting for now — its trigger and the state of its source, the
/// time left on its <c>when.timeout</c>, a restart backoff, a cron or interval tick, a stop — from the config in force
/// and the supervisor's snapshot. A pure function of both and the time.
/// </summary>
public static class WaitExplanation
{
    /// <summary>The line for job <paramref name="name"/>; null when there is no such job.</summary>
    public static string? Explain(string name, PilotConfig config, SupervisorSnapshot status, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(status);
        var job = status.Jobs.FirstOrDefault(j => j.Name == name);
        var jobConfig = JobGraphBuilder.JobsOf(config).FirstOrDefault(j => j.Name == name);
        if (job is null || jobConfig is null)
        {
            return null;
        }
        var graph = JobGraphBuilder.Build(config);
        var trap = graph.Traps.FirstOrDefault(t => t.Job == name);
        var when = jobConfig.When;
        var line = job.State switch
        {
            JobState.Idle or JobState.Starting => $"{name} is starting",
            JobState.Waiting when trap is not null => $"{name} never starts: {Unprefixed(trap.Message, name)}",
            JobState.Waiting => $"{name} waits for {Trigger(jobConfig, status, now)}{TimeoutLeft(job, when, now)}",
            JobState.Running when job.Pid is null => $"{name} is active (no exec); waits for nothing",
            JobState.Running => $"{name} is running (pid {job.Pid}{Uptime(job, now)}); waits for nothing{Periodic(jobConfig, job, now, ", ")}",
            JobState.RestartQueued => $"{name} is running (pid {job.Pid}); a start is queued for when this run exits",
            JobState.Exited => Exited(name, jobConfig, job, status, now),
            JobState.Holding => $"{name} is being stopped by an operator (pilot stop); then it stays stopped",
            JobState.Stopped => $"{name} was stopped by an operator; waits for 'pilot start {name}' or 'pilot restart {name}'",
            JobState.Stopping when !job.WaitingFor.IsEmpty =>
                $"{name} is stopping: waits for {string.Join(", ", job.WaitingFor.Order(StringComparer.Ordinal))} to stop before its processes get {StopSignals.Name(job.StopSignal)}",
            JobState.Stopping => $"{name} is stopping",
            JobState.Terminating => $"{name} is stopping: its processes got {StopSignals.Name(job.StopSignal)}; SIGKILL at the end of its stop timeout",
            JobState.Deregistering => $"{name} is stopping: deregistering its service from Consul",
            JobState.Completed => $"{name} has completed (halted for good; only a reload starts it again)",
            _ => $"{name} is {job.State}",
        };
        if (status.Maintenance && job.Check is not null && job.State is not JobState.Completed)
        {
            line += " (maintenance: health checks paused)";
        }
        return line;
    }

    private static string Exited(string name, JobConfig config, JobSnapshot job, SupervisorSnapshot status, DateTimeOffset now)
    {
        var exit = job.LastExitCode is { } code ? $"exited with {code.ToString(CultureInfo.InvariantCulture)}" : "exited";
        if (job.NextRestart is { } due)
        {
            var delay = job.RestartDelay is { } d ? $" (restartBackoff delay {GoDuration.Format(d)})" : "";
            return $"{name} {exit}; restarts in {Left(due, now)}{delay}";
        }
        if (config.When.IsPeriodic)
        {
            return $"{name} {exit}; waits for its next run{Periodic(config, job, now, ": ")}";
        }
        if (config.When.StartsLimit < 0)
        {
            return $"{name} {exit}; waits for {Trigger(config, status, now)}";
        }
        var restarts = config.Restarts < 0 ? "unlimited" : config.Restarts.ToString(CultureInfo.InvariantCulture);
        return $"{name} {exit} and waits for nothing: its trigger was used once and its restarts ({restarts}) are used up";
    }

    /// <summary><c>"healthy" from web (once), which is running, health unknown</c>.</summary>
    private static string Trigger(JobConfig config, SupervisorSnapshot status, DateTimeOffset now)
    {
        var when = config.When;
        if (when.IsPeriodic)
        {
            return "its first run" + Periodic(config, null, now, ": ");
        }
        var trigger = when.Trigger;
        var count = when.StartsLimit < 0 ? "each" : "once";
        if (trigger.Code == EventCode.Signal)
        {
            return $"{trigger.Source} sent to Pilot ({count})";
        }
        var eventName = trigger.Code.ToConfigName();
        var source = trigger.Source;
        if (source == Event.GlobalSource)
        {
            return $"\"{eventName}\" from global ({count})";
        }
        var jobName = source.StartsWith("check.", StringComparison.Ordinal) ? source["check.".Length..] : source;
        if (status.Jobs.FirstOrDefault(j => j.Name == jobName) is { } sourceJob)
        {
            var health = sourceJob.Check is null ? "" : sourceJob.Health switch
            {
                HealthStatus.Healthy => ", healthy",
                HealthStatus.Unhealthy => ", unhealthy",
                HealthStatus.Maintenance => ", in maintenance",
                _ => ", health unknown",
            };
            return $"\"{eventName}\" from {source} ({count}); {jobName} is {Camel(sourceJob.State.ToString())}{health}";
        }
        if (status.Watches.FirstOrDefault(w => "watch." + w.Name == source) is { } watch)
        {
            var checkedAt = watch.LastChecked is { } at ? $"last checked {Ago(at, now)} ago" : "not checked yet";
            return $"\"{eventName}\" from {source} ({count}); {watch.Instances.Length.ToString(CultureInfo.InvariantCulture)} instance(s), {checkedAt}";
        }
        return $"\"{eventName}\" from {source} ({count})";
    }

    private static string TimeoutLeft(JobSnapshot job, WhenConfig when, DateTimeOffset now) =>
        job.WhenTimeoutDue is { } due && when.Timeout is { } timeout
            ? $"; gives up in {Left(due, now)} (when.timeout {GoDuration.Format(timeout)})"
            : "";

    private static string Periodic(JobConfig config, JobSnapshot? job, DateTimeOffset now, string separator) =>
        config.When.Cron is { } cron
            ? job?.NextRun is { } next ? $"{separator}cron \"{cron.Text}\", next at {next.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} (in {Left(next, now)})" : $"{separator}cron \"{cron.Text}\""
            : config.When.Interval is { } every ? $"{separator}every {GoDuration.Format(every)}" : "";

    private static string Uptime(JobSnapshot job, DateTimeOffset now) => job.LastStarted is { } started ? $", up {Short(now - started)}" : "";

    private static string Left(DateTimeOffset due, DateTimeOffset now) => Short(due - now);

    private static string Ago(DateTimeOffset at, DateTimeOffset now) => Short(now - at);

    /// <summary>A Go duration to the tenth of a second: <c>4.2s</c>, <c>3m12s</c>.</summary>
    private static string Short(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }
        return GoDuration.Format(span < TimeSpan.FromMinutes(1)
            ? TimeSpan.FromMilliseconds(Math.Round(span.TotalMilliseconds / 100) * 100)
            : TimeSpan.FromSeconds(Math.Round(span.TotalSeconds)));
    }

    private static string Unprefixed(string message, string name) =>
        message.StartsWith($"job {name}: ", StringComparison.Ordinal) ? message[$"job {name}: ".Length..] : message;

    private static string Camel(string text) => text.Length == 0 ? text : char.ToLowerInvariant(text[0]) + text[1..];
}
