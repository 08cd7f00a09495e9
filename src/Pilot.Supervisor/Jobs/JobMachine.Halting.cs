using Pilot.Supervisor.Config;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Processes;
using static Pilot.Supervisor.Control.JobState;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>How a job halts: stopping, waiting for stopping-dependents, terminating its process groups, deregistering, completing.</summary>
public static partial class JobMachine
{
    private sealed partial class Transition
    {
        /// <summary>Halt whatever the trigger: nothing may start the job again.</summary>
        private void HaltForGood()
        {
            _m = _m with { StartsRemain = 0, Trigger = default };
            Halt();
        }

        /// <summary>v3's cleanup begins: timers stop, <c>stopping</c> is published, the stop budget starts.</summary>
        private void Halt()
        {
            AnswerPending(changed: false);
            CancelBackoff();
            _m = _m with { StartAfterStop = false };
            if (_job.Config.Health is { } health && health.Interval > TimeSpan.Zero)
            {
                Emit(new DisarmTimer(JobTimer.Heartbeat));
            }
            if (_job.Config.When.IsPeriodic)
            {
                Emit(new DisarmTimer(JobTimer.Interval));
            }
            if (_m.WhenTimeoutArmed)
            {
                Emit(new DisarmTimer(JobTimer.WhenTimeout));
            }
            var budget = Budget;
            MoveTo(Stopping);
            _m = _m with { WhenTimeoutArmed = false, StopDeadline = Now + budget };
            PublishEvent(EventCode.Stopping, Name);
            // Stopping-dependents always; with an ordered shutdown, also the jobs that depend on this one and are still there.
            var hooks = StopHooks;
            var awaited = _m.ShutdownSeen ? hooks.Union(_job.ShutdownDependents.Except(_m.StoppedDependents)) : hooks;
            if (!awaited.IsEmpty && budget > TimeSpan.Zero)
            {
                _m = _m with { AwaitedDependents = awaited };
                Emit(new ArmTimer(JobTimer.StopDeadline, budget, Periodic: false));
            }
            else
            {
                EnterTerminating(deadlineArmed: false);
            }
        }

        /// <summary>The stop signal to what is alive, SIGKILL when the rest of the stop budget is spent.</summary>
        private void EnterTerminating(bool deadlineArmed)
        {
            if (deadlineArmed)
            {
                Emit(new DisarmTimer(JobTimer.StopDeadline));
            }
            _m = _m with { AwaitedDependents = [] };
            if (_m.Run is null && _m.Probe is null)
            {
                AfterTermination();
                return;
            }
            MoveTo(Terminating);
            var grace = GraceLeft;
            if (_m.Run is { } run)
            {
                TerminateGroup(run, _job.Config.StopSignal, grace, forHalt: true);
            }
            if (_m.Probe is { } probe)
            {
                TerminateCheck(probe, grace, forHalt: true);
            }
        }

        /// <summary>What is left of the stop budget for the SIGTERM grace (at least <see cref="StopTimeouts.MinimumGrace"/>).</summary>
        private TimeSpan GraceLeft => StopTimeouts.Grace((_m.StopDeadline ?? Now) - Now, Budget);

        /// <summary>
        /// The end of an awaited dependent: its <c>stopped</c>, or for a pre-stop job (which runs at every stop and stays)
        /// the end of its run. Shutdown-dependents end only with <c>stopped</c>.
        /// </summary>
        private bool EndsAwaitedDependent(Event e) =>
            _m.AwaitedDependents.Contains(e.Source)
            && (e.Code == EventCode.Stopped || (e.Code is EventCode.ExitSuccess or EventCode.ExitFailed && !_job.ShutdownDependents.Contains(e.Source)));

        /// <summary>
        /// An operator stop or restart of a running job: its pre-stop jobs run first and are waited for (within the stop
        /// budget, as on shutdown), then the run's process groups are terminated.
        /// </summary>
        private void HoldAndTerminate(IRunningProcess run)
        {
            var budget = Budget;
            var hooks = StopHooks;
            _m = _m with { StopDeadline = Now + budget };
            if (!hooks.IsEmpty && budget > TimeSpan.Zero)
            {
                _m = _m with { AwaitedDependents = hooks };
                Emit(new ArmTimer(JobTimer.StopDeadline, budget, Periodic: false));
                return;
            }
            TerminateGroup(run, _job.Config.StopSignal, budget, forHalt: false);
        }

        /// <summary>Holding: the pre-stop jobs are done (or the budget is): terminate the run with what is left of the budget.</summary>
        private void TerminateHeldRun(bool deadlineArmed)
        {
            if (deadlineArmed)
            {
                Emit(new DisarmTimer(JobTimer.StopDeadline));
            }
            _m = _m with { AwaitedDependents = [] };
            if (_m.Run is { } run)
            {
                TerminateGroup(run, _job.Config.StopSignal, GraceLeft, forHalt: false);
            }
        }

        /// <summary>The source of this pre-stop/post-stop job is gone for good: nothing will trigger it again.</summary>
        private void OnSourceHalted()
        {
            switch (_m.State)
            {
                case Waiting or Exited:
                    HaltForGood();
                    break;
                case Running or RestartQueued or Holding or Stopped:
                    // The run under way finishes; then nothing starts it again (an operator-held job halts on shutdown).
                    _m = _m with { StartsRemain = 0, Trigger = default };
                    break;
                case var state when state == Idle || state.IsHaltingOrCompleted():
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void AfterTermination()
        {
            if (_job.HasService)
            {
                MoveTo(Deregistering);
                Emit(new Deregister());
            }
            else
            {
                Complete();
            }
        }

        private void OnDeregistered()
        {
            if (_m.StopDeregistering)
            {
                // An operator stop's: it published `stopped` already.
                _m = _m with { StopDeregistering = false };
                return;
            }
            switch (_m.State)
            {
                case Deregistering:
                    Complete();
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void Complete()
        {
            MoveTo(Completed);
            Emit(new LeaveBus());
            PublishEvent(EventCode.Stopped, Name);
        }
    }
}
