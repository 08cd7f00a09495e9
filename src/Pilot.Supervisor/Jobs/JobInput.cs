using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Health;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Jobs;

/// <summary>
/// Everything that can happen to a job arrives in its mailbox as one of these, and only its loop handles them:
/// bus events, timer ticks, process and probe ends, the outcome of its own actions, and commands.
/// </summary>
public abstract record JobInput
{
    public sealed override string ToString() => Describe();

    /// <summary>How the input is named in logs and internal errors.</summary>
    protected virtual string Describe() => GetType().Name;
}

/// <summary>The loop begins: arm the timers and wait for the trigger.</summary>
public sealed record Begin : JobInput;

/// <summary>An event from the bus (every job sees every event, as in v3).</summary>
public sealed record BusEvent(Event Event) : JobInput
{
    protected override string Describe() => $"BusEvent {Event}";
}

/// <summary>A timer the job armed went off.</summary>
public sealed record TimerFired(JobTimer Timer) : JobInput
{
    protected override string Describe() => $"TimerFired {Timer}";
}

/// <summary>The exec was launched (the outcome of <see cref="LaunchRun"/>).</summary>
public sealed record RunStarted(IRunningProcess Run) : JobInput;

/// <summary>The exec could not be launched (the outcome of <see cref="LaunchRun"/>); v3 counts it as <c>exitFailed</c>.</summary>
public sealed record RunStartFailed(string Message) : JobInput;

/// <summary>The run ended and its output is drained.</summary>
public sealed record RunExited(IRunningProcess Run, ProcessExit Exit) : JobInput;

/// <summary>A restart decided after a failed launch, queued behind what is already in the mailbox (v3 restarts when its own <c>exitFailed</c> comes back from the bus).</summary>
public sealed record RestartDue : JobInput;

/// <summary>A health probe was started (the outcome of <see cref="StartCheck"/>).</summary>
public sealed record CheckStarted(IHealthProbe Probe) : JobInput;

/// <summary>A health probe finished.</summary>
public sealed record CheckFinished(IHealthProbe Probe, HealthCheckResult Result) : JobInput;

/// <summary>
/// A process group the job sent its stop signal to (<see cref="TerminateGroup"/>) is gone — or still there
/// <see cref="ProcessGroupKiller.KillWait"/> after SIGKILL (stuck in the kernel), and no longer waited for.
/// </summary>
public sealed record GroupGone(IRunningProcess Group) : JobInput
{
    protected override string Describe() => $"GroupGone {Group.Pid}";
}

/// <summary>The service is removed from Consul (or the attempt ended).</summary>
public sealed record Deregistered : JobInput;

/// <summary>
/// The job's trigger source (the job whose <c>stopping</c>/<c>stopped</c> a pre-stop or post-stop job waits for) has
/// halted for good and no job of that name is left: the hook will never be triggered again, so it halts.
/// </summary>
public sealed record SourceHalted : JobInput;

/// <summary>Forward a signal to the job's process groups; <paramref name="Reply"/> gets the snapshot once it is passed on.</summary>
public sealed record ForwardSignal(int Signal, TaskCompletionSource<JobSnapshot>? Reply = null) : JobInput
{
    protected override string Describe() => $"ForwardSignal {Signal}";
}

/// <summary>A command from the supervisor or the control plane; <paramref name="Reply"/> gets the snapshot after it is handled.</summary>
public sealed record Command(JobCommand Kind, TaskCompletionSource<CommandReply>? Reply = null) : JobInput
{
    protected override string Describe() => $"Command {Kind}";
}

/// <summary>The answer to a command: the snapshot once it is done, and whether it changed anything.</summary>
public sealed record CommandReply(JobSnapshot Job, bool Changed);


/// <summary>The timers a job arms; each tick comes back as <see cref="TimerFired"/>.</summary>
public enum JobTimer
{
    /// <summary><c>health.interval</c>: run the check or send the TTL heartbeat.</summary>
    Heartbeat,
    /// <summary><c>when.interval</c>: the next run of a periodic job.</summary>
    Interval,
    /// <summary><c>when.timeout</c>: give up waiting for the first start.</summary>
    WhenTimeout,
    /// <summary>The job's <c>timeout</c>: SIGKILL the run.</summary>
    RunTimeout,
    /// <summary>The stop budget ran out while waiting for stopping-dependents.</summary>
    StopDeadline,
    /// <summary>The SIGTERM grace of a group being terminated ran out (kill-time-elapsed): SIGKILL it.</summary>
    Kill,
    /// <summary><c>restartBackoff</c>: the delay before a restart is over.</summary>
    RestartBackoff,
    /// <summary><c>health.notify</c> with <c>ttl</c>: no <c>WATCHDOG=1</c> came within the ttl.</summary>
    Watchdog,
}
