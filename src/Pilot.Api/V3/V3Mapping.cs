using Pilot.Supervisor.Config;
using Pilot.Supervisor.Config.Decoding;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Logging;
using Pilot.Supervisor.Processes;

namespace Pilot.Api.V3;

/// <summary>Domain snapshots → wire records. Enum names go out camelCase, as the rest of the JSON.</summary>
public static class V3Mapping
{
    /// <param name="usage">What each job's process group costs, by pid (<see cref="ProcessGroupUsage"/>); null: not read.</param>
    /// <param name="now">The time the usage was read, for the CPU average.</param>
    public static StatusResponse ToResponse(this SupervisorSnapshot snapshot, IReadOnlyDictionary<int, GroupUsage>? usage = null, DateTimeOffset now = default) => new(
        snapshot.Version,
        snapshot.Maintenance,
        [.. snapshot.Jobs.Select(j => j.ToResponse(usage, now))],
        [.. snapshot.Watches.Select(w => new WatchResponse(
            w.Name, [.. w.Instances.Select(i => new WatchInstanceResponse(i.Id, i.Address, i.Port))], w.LastChecked))])
    {
        ShutdownOrder = CamelCase(snapshot.ShutdownOrder.ToString()),
        HoldingShutdown = snapshot.ShuttingDown ? snapshot.HoldingShutdown : null,
    };

    public static JobResponse ToResponse(this JobSnapshot job) => job.ToResponse(null, default);

    public static JobResponse ToResponse(this JobSnapshot job, IReadOnlyDictionary<int, GroupUsage>? usage, DateTimeOffset now)
    {
        var response = job.ToResponseWithoutUsage();
        if (usage is null || job.Pid is not { } pid || !usage.TryGetValue(pid, out var group))
        {
            return response;
        }
        var uptime = job.LastStarted is { } started ? (now - started).TotalSeconds : 0;
        return response with
        {
            CpuSeconds = Math.Round(group.CpuSeconds, 2),
            CpuPercent = uptime > 0 ? Math.Round(Math.Min(group.CpuSeconds / uptime * 100, 100.0 * Environment.ProcessorCount), 1) : 0,
            MemoryBytes = group.RssBytes,
            Processes = group.Processes,
        };
    }

    /// <summary>The usage of every job of <paramref name="snapshot"/> that has a process, read from /proc now.</summary>
    public static Dictionary<int, GroupUsage> ReadUsage(this SupervisorSnapshot snapshot) =>
        ProcessGroupUsage.Read([.. snapshot.Jobs.Where(j => j.Pid is not null).Select(j => j.Pid!.Value).Distinct()]);

    private static JobResponse ToResponseWithoutUsage(this JobSnapshot job) => new()
    {
        Name = job.Name,
        State = CamelCase(job.State.ToString()),
        Health = CamelCase(job.Health.ToString()),
        Pid = job.Pid,
        Restarts = job.Restarts,
        LastExitCode = job.LastExitCode,
        LastStarted = job.LastStarted,
        LastExited = job.LastExited,
        LastEvent = job.LastEvent,
        IsService = job.IsService,
        Version = job.Version,
        WaitingFor = job.WaitingFor.IsEmpty ? null : [.. job.WaitingFor.Order(StringComparer.Ordinal)],
        RestartBackoff = job.RestartBackoff is { } backoff ? new RestartBackoffResponse
        {
            Initial = GoDuration.Format(backoff.Initial),
            Factor = backoff.Factor,
            Max = GoDuration.Format(backoff.Max),
            Jitter = backoff.Jitter,
            ResetAfter = GoDuration.Format(backoff.ResetAfter),
            Delay = job.RestartDelay is { } delay ? GoDuration.Format(delay) : null,
            NextRestart = job.NextRestart,
        } : null,
        StopSignal = StopSignals.Name(job.StopSignal),
        OnSuccess = CamelCase(job.OnSuccess.ToString()),
        OnFailure = CamelCase(job.OnFailure.ToString()),
        Check = job.Check,
        User = job.User,
        Cron = job.Cron,
        NextRun = job.NextRun,
        WhenTimeoutDue = job.WhenTimeoutDue,
        Notify = job.Notify is { } notify ? new NotifyResponse
        {
            Socket = notify.Socket,
            Ready = notify.Ready,
            Status = notify.Status,
            Stopping = notify.Stopping,
            Reloading = notify.Reloading,
            LastWatchdog = notify.LastWatchdog,
            WatchdogMissed = notify.WatchdogMissed,
            Accepted = notify.Accepted,
            Foreign = notify.Foreign,
            Oversized = notify.Oversized,
            Malformed = notify.Malformed,
        } : null,
    };

    public static LogLineResponse ToResponse(this RecordedLine line) =>
        new(line.Time, line.Source, line.Pid, line.IsStdErr ? "stderr" : "stdout", line.Text);

    public static EventResponse ToResponse(this Event e) => new(e.Code.ToConfigName(), e.Source);

    public static ProblemError ToProblemError(this ConfigError error) => new(error.Path, error.Message, error.Line);

    private static string CamelCase(string name) =>
        name.Length == 0 ? name : string.Concat(char.ToLowerInvariant(name[0]).ToString(), name.AsSpan(1));
}
