using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Health;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Jobs;

/// <summary>What a job is, fixed for its life: its config, its stopping-dependents, and what it is wired to.</summary>
public sealed record JobDefinition(JobConfig Config, ImmutableHashSet<string> StopDependents, bool HasService, bool HasCheck)
{
    public string Name => Config.Name;

    /// <summary><c>shutdownOrder: "dependencies"</c>: the jobs whose <c>stopped</c> this one awaits when Pilot shuts down (<see cref="ShutdownOrdering"/>).</summary>
    public ImmutableHashSet<string> ShutdownDependents { get; init; } = [];

    /// <summary>
    /// A pre-stop or post-stop job (<c>when: {source: X, once: "stopping"|"stopped"}</c>): it runs at every stop of X
    /// (restart, <c>pilot stop</c>, reload, shutdown), so a run does not use up its start until Pilot shuts down or X is
    /// gone for good.
    /// </summary>
    public bool IsStopHook => Config.Exec is not null && !Config.When.IsPeriodic && Config.When.StartsLimit == 1
        && Config.When.Trigger.Code is EventCode.Stopping or EventCode.Stopped;

    /// <summary>
    /// The sources whose events can change what the job does, for the bus (<see cref="EventBus.Subscribe(string, IReadOnlySet{string}?, Func{Event, ValueTask})"/>):
    /// <c>global</c> (startup, shutdown, maintenance), its trigger's source (a job, watch, check, signal...), and the jobs
    /// it waits for when it stops. The pre-stop jobs it waits for name it as their source, so it hears them too. Its own
    /// exits and its check's are not on the list: it handles them when the process ends, never from the bus.
    /// </summary>
    public IReadOnlySet<string> ListenedSources()
    {
        var sources = new HashSet<string>([Event.GlobalSource, .. StopDependents, .. ShutdownDependents], StringComparer.Ordinal);
        if (Config.When.Trigger.Source is { } trigger)
        {
            sources.Add(trigger);
        }
        return sources;
    }

    /// <summary>Event source of the health check: <c>check.&lt;job&gt;</c>.</summary>
    public string CheckName => "check." + Config.Name;

    /// <summary>The telemetry service job: no exec, always healthy (v3's <c>alwaysHealthy</c>).</summary>
    public bool IsAlwaysHealthy => Config.Name == JobConfig.TelemetryJobName && Config.Exec is null;

    /// <summary>The <c>CONTAINERPILOT_*_PID</c> variable set while a run is alive; null for a job without exec.</summary>
    public string? PidVariable => Config.Exec is { } exec ? EnvNames.PidVariable(Config.Name) : null;

    /// <summary><c>health.notify</c>: the job's run says itself when it is ready (a job without exec has no run to say it).</summary>
    public bool HasNotify => Config.Health?.Notify == true && Config.Exec is not null;

    public static JobDefinition Of(JobConfig config, IEnumerable<string>? stopDependents = null, bool hasService = false) =>
        new(config, [.. stopDependents ?? []], hasService, config.Health?.Kind is not null);
}

/// <summary>
/// When an input is handled: the time, the global <c>stopTimeout</c> in force (a reload may change it), and a random
/// number in [0, 1) for the backoff's jitter (0.5 = none), so the machine stays a pure function.
/// </summary>
/// <see cref="StopHooks"/> gives, for a job's name, the pre-stop jobs that will run when it stops now (those alive and
/// armed; not stopped by an operator, not halted); null: the stopping-dependents of the definition.
public readonly record struct JobMoment(DateTimeOffset Now, TimeSpan GlobalStopTimeout, double Chance = 0.5,
    Func<string, ImmutableHashSet<string>>? StopHooks = null);

/// <summary>
/// Everything a job's state machine knows, replaced as a whole on every step (only the job's loop holds it).
/// <see cref="State"/> decides what an input means; the rest is v3's data: the counters, the trigger (cleared when it
/// must not start the job again), what is alive, and what the snapshot shows.
/// </summary>
public sealed record JobMemory
{
    public const int Unlimited = -1;

    /// <summary>Changed only through <see cref="MoveTo"/>.</summary>
    public JobState State { get; private init; }
    public HealthStatus Health { get; init; }
    /// <summary>The event that starts the job; <c>default</c> once v3 would have cleared it.</summary>
    public Event Trigger { get; init; }
    public int StartsRemain { get; init; }
    public int RestartsRemain { get; init; }
    /// <summary>The <c>when.timeout</c> still counts (no start yet).</summary>
    public bool WhenTimeoutArmed { get; init; }
    /// <summary>The live run, if any.</summary>
    public IRunningProcess? Run { get; init; }
    /// <summary>The health probe in flight, if any.</summary>
    public IHealthProbe? Probe { get; init; }
    /// <summary>
    /// While <see cref="JobState.Stopping"/> (or <see cref="JobState.Holding"/> before an operator stop terminates the
    /// run): the stopping-dependents whose run (an exit event) or <c>stopped</c> has not come yet.
    /// </summary>
    public ImmutableHashSet<string> AwaitedDependents { get; init; } = [];
    /// <summary>When halting: the end of the stop budget, after which SIGKILL follows.</summary>
    public DateTimeOffset? StopDeadline { get; init; }
    /// <summary>
    /// The process groups the job has sent its stop signal to and that are not gone yet (a halt's, an operator stop's,
    /// the leftovers of a run or probe that ended), each with the time SIGKILL follows.
    /// </summary>
    public ImmutableList<GroupTermination> Terminations { get; init; } = [];
    /// <summary>What the kill timer is armed for: the earliest <see cref="GroupTermination.KillAt"/> not yet reached; null when disarmed.</summary>
    public DateTimeOffset? KillDue { get; init; }
    public int Restarts { get; init; }
    public ProcessExit? LastExit { get; init; }
    public DateTimeOffset? LastStarted { get; init; }
    public DateTimeOffset? LastExited { get; init; }
    /// <summary>When the bus last handed the job an event: one from a source it listens to (<see cref="JobDefinition.ListenedSources"/>).</summary>
    public DateTimeOffset? LastEvent { get; init; }
    /// <summary>While <see cref="JobState.Holding"/>: a restart (or a start) runs the exec once the stop is done.</summary>
    public bool StartAfterStop { get; init; }
    /// <summary>An operator stop's deregistration is in flight (its <see cref="Deregistered"/> is not a halt's).</summary>
    public bool StopDeregistering { get; init; }
    /// <summary><c>restartBackoff</c>: the undisturbed delay of the last backed-off restart (null: the next one waits <c>initial</c>).</summary>
    public TimeSpan? BackoffBase { get; init; }
    /// <summary><c>restartBackoff</c>: the delay of the last backed-off restart, jitter included.</summary>
    public TimeSpan? RestartDelay { get; init; }
    /// <summary><c>restartBackoff</c>: when the restart waiting for its timer is due; null when none waits.</summary>
    public DateTimeOffset? NextRestart { get; init; }
    /// <summary>Between <c>enterMaintenance</c> and <c>exitMaintenance</c>: health shows maintenance and checks do not run.</summary>
    public bool InMaintenance { get; init; }
    /// <summary>The global <c>shutdown</c> has come (an ordered shutdown waits for the job's shutdown-dependents).</summary>
    public bool ShutdownSeen { get; init; }
    /// <summary>Shutdown-dependents whose latest event is their <c>stopped</c>: nothing to wait for.</summary>
    public ImmutableHashSet<string> StoppedDependents { get; init; } = [];
    /// <summary>Commands answered once the operator stop under way is done.</summary>
    public ImmutableList<TaskCompletionSource<CommandReply>> PendingReplies { get; init; } = [];

    // Pilot extensions (issue 17).
    /// <summary>A <c>when.cron</c> job: the time its timer is armed for (the next scheduled run).</summary>
    public DateTimeOffset? NextCronRun { get; init; }
    /// <summary>While the <c>when.timeout</c> counts: when it ends (for <c>pilot why</c>).</summary>
    public DateTimeOffset? WhenTimeoutDue { get; init; }

    // Pilot extension (issue 27).
    /// <summary><c>health.notify</c>: what the run said on its notify socket; null for other jobs.</summary>
    public NotifyState? Notify { get; init; }

    /// <summary>The one place a job's state changes.</summary>
    public JobMemory MoveTo(JobState state) => this with { State = state };

    public static JobMemory Initial(JobDefinition job) => new()
    {
        State = JobState.Idle,
        Health = job.IsAlwaysHealthy ? HealthStatus.Healthy : HealthStatus.Unknown,
        Trigger = job.Config.When.Trigger,
        StartsRemain = job.Config.When.StartsLimit,
        RestartsRemain = job.Config.Restarts,
        WhenTimeoutArmed = job.Config.When.Timeout is { } timeout && timeout > TimeSpan.Zero,
        Notify = job.HasNotify ? new NotifyState() : null,
    };

    public JobSnapshot ToSnapshot(JobDefinition job, long version) => new()
    {
        Name = job.Name,
        State = State,
        Health = Health,
        Pid = Run?.Pid,
        Restarts = Restarts,
        LastExitCode = LastExit?.ShellCode,
        LastStarted = LastStarted,
        LastExited = LastExited,
        LastEvent = LastEvent,
        IsService = job.Config.IsService,
        RestartDelay = RestartDelay,
        NextRestart = NextRestart,
        WaitingFor = AwaitedDependents,
        RestartBackoff = job.Config.RestartBackoff,
        StopSignal = job.Config.StopSignal,
        OnSuccess = job.Config.OnSuccess,
        OnFailure = job.Config.OnFailure,
        Version = version,
        Check = job.Config.Health?.Kind,
        User = job.Config.RunAs?.ToString(),
        Cron = job.Config.When.Cron?.Text,
        NextRun = NextCronRun,
        WhenTimeoutDue = WhenTimeoutDue,
        Notify = Notify,
    };
}

/// <summary>
/// A process group being terminated (Pebble's terminating → kill-time-elapsed → killing): the stop signal is sent;
/// SIGKILL at <paramref name="KillAt"/> unless it is gone by then (<paramref name="Killed"/> once sent).
/// <paramref name="ForHalt"/>: the job's halt waits for it to be gone.
/// </summary>
public sealed record GroupTermination(IRunningProcess Group, DateTimeOffset KillAt, bool Killed, bool ForHalt);
