using Pilot.Supervisor.Control;

namespace Pilot.Supervisor.Jobs;

/// <summary>
/// Operator commands (<c>pilot stop|start|restart JOB</c>): <see cref="Command"/> inputs of the job's own mailbox, so
/// they go through the state machine like every other cause (see <see cref="JobMachine"/> and docs/job-states.md).
/// <list type="bullet">
/// <item>stop: publish <c>stopping</c>, terminate the run's process group (SIGTERM, SIGKILL after the grace; its exit
/// event is published as usual), deregister the service, publish <c>stopped</c>. The job stays <see cref="JobState.Stopped"/>:
/// triggers, restarts, ticks and health checks are ignored until it is started; shutdown and reload still end it.</item>
/// <item>start: publish <c>startup</c> with the job as source, then run the exec at once with a fresh restart budget.</item>
/// <item>restart: stop (unless already stopped), then start.</item>
/// </list>
/// A run's end is matched to the run itself, so the exit of a run from before a start is never taken for the new one's.
/// </summary>
public sealed partial class Job
{
    /// <summary>Runs <paramref name="command"/> in the job's loop and completes when it is done.</summary>
    public async Task<JobCommandOutcome> RunCommandAsync(JobCommand command, CancellationToken cancellationToken)
    {
        if (command is not (JobCommand.Stop or JobCommand.Start or JobCommand.Restart))
        {
            throw new ArgumentOutOfRangeException(nameof(command), command, "not an operator command");
        }
        var reply = await SendAsync(command).WaitAsync(cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            { Changed: true } => JobCommandOutcome.Done,
            { Job.State: var state } when state.IsHaltingOrCompleted() => JobCommandOutcome.Halted,
            _ => JobCommandOutcome.Unchanged,
        };
    }
}
