using Pilot.Supervisor.Events;
using Pilot.Supervisor.Health;
using Pilot.Supervisor.Processes;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>What the state machine asks the job's loop to do; the loop carries them out in order (see <see cref="Job"/>).</summary>
public abstract record JobEffect;

/// <summary>Publish on the bus; the loop sends a step's events once the step is over, after its snapshot.</summary>
public sealed record Publish(Event Event) : JobEffect;

public sealed record WriteLog(LogLevel Level, string Text) : JobEffect;

/// <summary>An input the machine could not have received in its state: logged as an internal error, nothing else changes.</summary>
public sealed record ReportInternalError(string Text) : JobEffect;

public sealed record ArmTimer(JobTimer Timer, TimeSpan Due, bool Periodic) : JobEffect;

public sealed record DisarmTimer(JobTimer Timer) : JobEffect;

/// <summary>Launch the exec; the outcome comes back at once as <see cref="RunStarted"/> or <see cref="RunStartFailed"/>.</summary>
public sealed record LaunchRun : JobEffect;

/// <summary>Start a health probe; it comes back at once as <see cref="CheckStarted"/>.</summary>
public sealed record StartCheck : JobEffect;

/// <summary>
/// v3's <c>CONTAINERPILOT_&lt;NAME&gt;_PID</c> in Pilot's own environment while a run is alive (so later children see it);
/// <paramref name="Pid"/> null unsets it.
/// </summary>
public sealed record SetPidVariable(string Name, int? Pid) : JobEffect;

public sealed record SignalRun(IRunningProcess Run, int Signal) : JobEffect;

public sealed record SignalCheck(IHealthProbe Probe, int Signal) : JobEffect;

/// <summary>
/// <paramref name="Signal"/> (the job's <c>stopSignal</c> for a run, SIGTERM for a check) to a process group, which the
/// loop then watches until it is gone: <see cref="GroupGone"/>, at once when it is gone already (then nothing is sent).
/// SIGKILL follows only as <see cref="KillGroup"/>, when the machine's kill timer says so.
/// </summary>
public sealed record TerminateGroup(IRunningProcess Group, int Signal) : JobEffect;

/// <summary>SIGKILL to a group being terminated; <see cref="GroupGone"/> follows once it is gone, or after <see cref="ProcessGroupKiller.KillWait"/>.</summary>
public sealed record KillGroup(IRunningProcess Group) : JobEffect;

/// <summary>Stop a probe that has no process group (HTTP, TCP): its attempt is cancelled and its result comes back as <see cref="CheckFinished"/>.</summary>
public sealed record CancelCheck(IHealthProbe Probe) : JobEffect;

public enum ServiceCall { EnsureInitialRegistration, Heartbeat, EnterMaintenance, ExitMaintenance }

/// <summary>A call to the job's Consul registration; it queues and retries on its own, so it never blocks the job.</summary>
public sealed record CallService(ServiceCall Call) : JobEffect;

/// <summary>Remove the service from Consul; <see cref="Deregistered"/> follows.</summary>
public sealed record Deregister : JobEffect;

/// <summary>
/// The job's <c>onSuccess</c> / <c>onFailure</c> is <c>shutdown</c>: Pilot shuts down and exits with
/// <paramref name="ExitCode"/>. Sent once the step's events are published.
/// </summary>
public sealed record RequestShutdown(int ExitCode) : JobEffect;

/// <summary>Stop receiving bus events.</summary>
public sealed record LeaveBus : JobEffect;

/// <summary>Put an input at the end of the job's own mailbox.</summary>
public sealed record Enqueue(JobInput Input) : JobEffect;

/// <summary>Answer a command with the snapshot after the step (<paramref name="Changed"/>: the command did something).</summary>
public sealed record Reply(TaskCompletionSource<CommandReply> To, bool Changed) : JobEffect;

/// <summary>Tell whoever forwarded a signal that it is passed on (the snapshot after the step).</summary>
public sealed record SignalPassed(TaskCompletionSource<Control.JobSnapshot> To) : JobEffect;
