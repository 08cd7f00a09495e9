using static Pilot.Supervisor.Control.JobState;

namespace Pilot.Supervisor.Jobs;

/// <summary>The sets of <see cref="Control.JobState"/> that rules name, each spelled out once (see docs/job-states.md).</summary>
public static class JobStates
{
    /// <summary>Begun and not halting: the job takes its trigger, ticks, check results and commands.</summary>
    public static bool IsLive(this Control.JobState state) => state is Waiting or Running or RestartQueued or Exited or Holding or Stopped;

    /// <summary>Held by an operator's stop (or restart): triggers and ticks are ignored until a start.</summary>
    public static bool IsHeldByOperator(this Control.JobState state) => state is Holding or Stopped;

    /// <summary>Halting for good: <c>stopping</c> published, <c>stopped</c> not yet.</summary>
    public static bool IsHalting(this Control.JobState state) => state is Stopping or Terminating or Deregistering;

    /// <summary>Halting or halted: nothing starts the job again.</summary>
    public static bool IsHaltingOrCompleted(this Control.JobState state) => state.IsHalting() || state == Completed;

    /// <summary>Neither held by an operator nor halting: a pre-stop job in one of these runs when its source stops.</summary>
    public static bool IsArmed(this Control.JobState state) => state is Idle or Waiting or Starting or Running or RestartQueued or Exited;
}
