using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Jobs;

/// <summary>
/// Operator commands (<c>pilot stop|start|restart JOB</c>): queued to the job and run by its own loop, between events,
/// so they go through the same state as every other cause.
/// <list type="bullet">
/// <item>stop: publish <c>stopping</c>, terminate the run's process group (SIGTERM, SIGKILL after the grace; its exit
/// event is published as usual), deregister the service, publish <c>stopped</c>. The job stays <see cref="JobState.Stopped"/>:
/// triggers, restarts, ticks and health checks are ignored until it is started; shutdown and reload still end it.</item>
/// <item>start: publish <c>startup</c> with the job as source, then run the exec at once with a fresh restart budget.</item>
/// <item>restart: stop (unless already stopped), then start.</item>
/// </list>
/// Exit events of runs from before a start are still on their way through the mailbox; they are counted and ignored,
/// so they are never taken for the new run's exit.
/// </summary>
public sealed partial class Job
{
    private readonly Lock _commandGate = new();
    private readonly Queue<(JobCommand Command, TaskCompletionSource<JobCommandOutcome> Done)> _commands = new();
    private bool _commandsClosed;
    private bool _stoppedByOperator;
    /// <summary>Runs started (or failed to start) whose exit event the loop has not handled yet.</summary>
    private int _pendingExits;
    /// <summary>Exit events of runs from before an operator start, still to be ignored.</summary>
    private int _staleExits;
    private Task _runWatcher = Task.CompletedTask;

    /// <summary>Posted to the job's own mailbox: "run the next queued operator command" (never on the bus).</summary>
    private Event _operatorCommand => new(EventCode.None, Name + ".operator-command");

    /// <summary>Runs <paramref name="command"/> in the job's loop and completes when it is done.</summary>
    public Task<JobCommandOutcome> RunCommandAsync(JobCommand command, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<JobCommandOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        Subscription? mailbox;
        lock (_commandGate)
        {
            mailbox = _mailbox;
            if (_commandsClosed || mailbox is null)
            {
                return Task.FromResult(JobCommandOutcome.Halted);
            }
            _commands.Enqueue((command, done));
        }
        mailbox.Post(_operatorCommand);
        return done.Task.WaitAsync(cancellationToken);
    }

    private async Task<Outcome> RunOperatorCommandAsync()
    {
        (JobCommand Command, TaskCompletionSource<JobCommandOutcome> Done) next;
        lock (_commandGate)
        {
            if (!_commands.TryDequeue(out next))
            {
                return Outcome.Continue;
            }
        }
        try
        {
            var outcome = next.Command switch
            {
                JobCommand.Stop => await OperatorStopAsync().ConfigureAwait(false),
                JobCommand.Start => OperatorStart(),
                JobCommand.Restart => await OperatorRestartAsync().ConfigureAwait(false),
                _ => throw new ArgumentOutOfRangeException(nameof(next), next.Command, "unknown job command"),
            };
            next.Done.TrySetResult(outcome);
        }
        catch (Exception ex)
        {
            next.Done.TrySetException(ex);
            throw;
        }
        return Outcome.Continue;
    }

    private async Task<JobCommandOutcome> OperatorStopAsync()
    {
        if (_stoppedByOperator)
        {
            return JobCommandOutcome.Unchanged;
        }
        _stoppedByOperator = true;
        _startPending = false;
        Update(s => s with { State = JobState.Stopping });
        _runtime.Bus.Publish(new Event(EventCode.Stopping, Name));
        await TerminateProcessesAsync().ConfigureAwait(false);
        // The run's exit event goes out before `stopped`, as when a job halts.
        await _runWatcher.ConfigureAwait(false);
        await DeregisterServiceAsync().ConfigureAwait(false);
        SetStatus(HealthStatus.Unknown);
        Update(s => s with { State = JobState.Stopped, Pid = null });
        _runtime.Bus.Publish(new Event(EventCode.Stopped, Name));
        return JobCommandOutcome.Done;
    }

    private JobCommandOutcome OperatorStart()
    {
        if (!_stoppedByOperator && IsRunAlive)
        {
            return JobCommandOutcome.Unchanged;
        }
        _stoppedByOperator = false;
        _startPending = false;
        _staleExits = _pendingExits;
        _restartsRemain = Config.Restarts;
        Update(s => s with { State = JobState.Waiting });
        _runtime.Bus.Publish(new Event(EventCode.Startup, Name));
        StartExec();
        return JobCommandOutcome.Done;
    }

    private async Task<JobCommandOutcome> OperatorRestartAsync()
    {
        await OperatorStopAsync().ConfigureAwait(false);
        return OperatorStart();
    }

    /// <summary>While stopped by an operator only shutdown, reload and maintenance matter; null = handle as usual.</summary>
    private Outcome? HandleWhileStoppedByOperator(Event e)
    {
        if (!_stoppedByOperator)
        {
            return null;
        }
        if (e == new Event(EventCode.Quit, Name) || e == Event.GlobalShutdown)
        {
            _startsRemain = 0;
            _trigger = default;
            return Outcome.Halt;
        }
        if (e.Source == Name && e.Code is EventCode.ExitSuccess or EventCode.ExitFailed)
        {
            // Counted and ignored by OnExecExit.
            return null;
        }
        if (e == new Event(EventCode.EnterMaintenance, Event.GlobalSource))
        {
            SetStatus(HealthStatus.Maintenance);
        }
        else if (e == new Event(EventCode.ExitMaintenance, Event.GlobalSource))
        {
            SetStatus(HealthStatus.Unknown);
        }
        return Outcome.Continue;
    }

    /// <summary>Called for each own exit event: true when it belongs to a run an operator command already replaced or stopped.</summary>
    private bool IsExitToIgnoreAfterOperatorCommand()
    {
        _pendingExits--;
        if (_staleExits > 0)
        {
            _staleExits--;
            return true;
        }
        return _stoppedByOperator;
    }

    private void CloseOperatorCommands()
    {
        lock (_commandGate)
        {
            _commandsClosed = true;
            while (_commands.TryDequeue(out var left))
            {
                left.Done.TrySetResult(JobCommandOutcome.Halted);
            }
        }
    }
}
