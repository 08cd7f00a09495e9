using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Processes;
using static Pilot.Supervisor.Control.JobState;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>Commands (stop, start, restart, retire, kill) and forwarded signals.</summary>
public static partial class JobMachine
{
    private sealed partial class Transition
    {
        /// <summary>When a command is answered: at once (it did something or not), or once the operator stop under way is done.</summary>
        private enum Answer { Done, Unchanged, WhenStopped }

        private Answer OnCommand(JobCommand command)
        {
            switch (command)
            {
                case JobCommand.Retire:
                    OnRetire();
                    return Answer.Done;
                case JobCommand.Stop:
                    return OnStop();
                case JobCommand.Start:
                    return OnStart();
                case JobCommand.Restart:
                    return OnRestart();
                case JobCommand.Kill:
                    OnKill();
                    return Answer.Done;
                default:
                    Impossible();
                    return Answer.Unchanged;
            }
        }

        private void OnRetire()
        {
            switch (_m.State)
            {
                case var state when state.IsLive():
                    _m = _m with { RestartsRemain = 0 };
                    DropQueuedStart();
                    HaltForGood();
                    break;
                case var state when state.IsHalting():
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        /// <summary>
        /// <c>pilot stop</c>: publish <c>stopping</c>, terminate the run's process groups (its exit is published as usual),
        /// deregister the service, publish <c>stopped</c>; then stay <see cref="Stopped"/> until a start.
        /// </summary>
        private Answer OnStop()
        {
            switch (_m.State)
            {
                case Running or RestartQueued when _m.Run is { } run:
                    PublishEvent(EventCode.Stopping, Name);
                    MoveTo(Holding);
                    _m = _m with { StartAfterStop = false };
                    HoldAndTerminate(run);
                    return Answer.WhenStopped;
                case Waiting or Exited or Running:
                    PublishEvent(EventCode.Stopping, Name);
                    FinishOperatorStop();
                    return Answer.Done;
                case Holding:
                    _m = _m with { StartAfterStop = false };
                    return Answer.WhenStopped;
                case var state when state == Stopped || state.IsHalting():
                    return Answer.Unchanged;
                default:
                    Impossible();
                    return Answer.Unchanged;
            }
        }

        /// <summary><c>pilot start</c>: publish <c>startup</c> with the job as source and run the exec at once, with a fresh restart budget.</summary>
        private Answer OnStart()
        {
            switch (_m.State)
            {
                case Waiting or Exited or Stopped:
                    OperatorStart();
                    return Answer.Done;
                case Holding:
                    _m = _m with { StartAfterStop = true };
                    return Answer.WhenStopped;
                case var state when state is Running or RestartQueued || state.IsHalting():
                    return Answer.Unchanged;
                default:
                    Impossible();
                    return Answer.Unchanged;
            }
        }

        /// <summary><c>pilot restart</c>: stop (unless stopped), then start.</summary>
        private Answer OnRestart()
        {
            switch (_m.State)
            {
                case Running or RestartQueued when _m.Run is { } run:
                    PublishEvent(EventCode.Stopping, Name);
                    MoveTo(Holding);
                    _m = _m with { StartAfterStop = true };
                    HoldAndTerminate(run);
                    return Answer.WhenStopped;
                case Waiting or Exited or Running:
                    PublishEvent(EventCode.Stopping, Name);
                    _m = _m with { StartAfterStop = true };
                    FinishOperatorStop();
                    return Answer.Done;
                case Stopped:
                    OperatorStart();
                    return Answer.Done;
                case Holding:
                    _m = _m with { StartAfterStop = true };
                    return Answer.WhenStopped;
                case var state when state.IsHalting():
                    return Answer.Unchanged;
                default:
                    Impossible();
                    return Answer.Unchanged;
            }
        }

        /// <summary>The run of an operator stop is gone: deregister, publish <c>stopped</c>, answer, and start again for a restart.</summary>
        private void FinishOperatorStop()
        {
            if (!_m.AwaitedDependents.IsEmpty)
            {
                // The run ended before its pre-stop jobs did: nothing is left to terminate.
                Emit(new DisarmTimer(JobTimer.StopDeadline));
                _m = _m with { AwaitedDependents = [] };
            }
            // One deregistration in flight is enough: a second stop before it ends finds the service going already.
            if (_job.HasService && !_m.StopDeregistering)
            {
                _m = _m with { StopDeregistering = true };
                Emit(new Deregister());
            }
            SetHealth(HealthStatus.Unknown);
            CancelBackoff();
            MoveTo(Stopped);
            PublishEvent(EventCode.Stopped, Name);
            var startAgain = _m.StartAfterStop;
            _m = _m with { StartAfterStop = false };
            if (startAgain)
            {
                OperatorStart();
            }
            AnswerPending(changed: true);
        }

        private void OperatorStart()
        {
            _m = _m with { RestartsRemain = _job.Config.Restarts, BackoffBase = null };
            PublishEvent(EventCode.Startup, Name);
            StartExec();
        }

        private void AnswerPending(bool changed)
        {
            foreach (var reply in _m.PendingReplies)
            {
                Emit(new Reply(reply, changed));
            }
            _m = _m with { PendingReplies = [] };
        }

        /// <summary>The global stop window ended: SIGKILL now to the run, the check and every group still being terminated (one log line).</summary>
        private void OnKill()
        {
            var run = _m.Run is { } alive && !IsTerminating(alive) ? alive : null;
            var probe = _m.Probe is { } running && !(running.Group is { } group && IsTerminating(group)) ? running : null;
            if (run is not null || probe is not null)
            {
                LogKilling();
            }
            if (run is not null)
            {
                Emit(new SignalRun(run, SignalNames.SIGKILL));
            }
            if (probe is not null)
            {
                Emit(new SignalCheck(probe, SignalNames.SIGKILL));
            }
            KillGroups(_ => true, logged: run is not null || probe is not null);
            ArmKillTimer();
        }

        private void OnForwardSignal(int signal)
        {
            if (_m.Run is { } run)
            {
                Emit(new SignalRun(run, signal));
            }
            if (_m.Probe is { } probe)
            {
                Emit(new SignalCheck(probe, signal));
            }
        }
    }
}
