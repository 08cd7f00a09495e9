using Pilot.Supervisor.Events;
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
            _m = _m with { State = Stopping, WhenTimeoutArmed = false, StopDeadline = Now + budget };
            PublishEvent(EventCode.Stopping, Name);
            if (!_job.StopDependents.IsEmpty && budget > TimeSpan.Zero)
            {
                _m = _m with { AwaitedDependents = _job.StopDependents };
                Emit(new ArmTimer(JobTimer.StopDeadline, budget, Periodic: false));
            }
            else
            {
                EnterTerminating(deadlineArmed: false);
            }
        }

        /// <summary>SIGTERM to what is alive, SIGKILL when the rest of the stop budget is spent.</summary>
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
            var left = (_m.StopDeadline ?? Now) - Now;
            _m = _m with { State = Terminating };
            Emit(new TerminateGroups(_m.Run, _m.Probe, left > TimeSpan.Zero ? left : TimeSpan.Zero, Report: true));
        }

        private void OnTerminationFinished(bool killed)
        {
            switch (_m.State)
            {
                case Terminating when _m.Run is null && _m.Probe is null:
                    // (The loop hands over the processes' ends before it reports their termination.)
                    if (killed)
                    {
                        Emit(new WriteLog(LogLevel.Info, $"killing processes for job \"{Name}\""));
                    }
                    AfterTermination();
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
                _m = _m with { State = Deregistering };
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
            _m = _m with { State = Completed };
            Emit(new LeaveBus());
            PublishEvent(EventCode.Stopped, Name);
        }
    }
}
