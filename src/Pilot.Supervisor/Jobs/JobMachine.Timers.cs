using Pilot.Supervisor.Config.Decoding;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Health;
using Pilot.Supervisor.Processes;
using static Pilot.Supervisor.Control.JobState;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>Timer ticks and health checks: heartbeats, check results, interval ticks, the when-timeout, the run timeout, the stop deadline.</summary>
public static partial class JobMachine
{
    private sealed partial class Transition
    {
        private void OnTimer(JobTimer timer)
        {
            switch (timer)
            {
                case JobTimer.Heartbeat:
                    OnHeartbeat();
                    break;
                case JobTimer.Interval:
                    OnIntervalTick();
                    break;
                case JobTimer.WhenTimeout:
                    OnWhenTimeout();
                    break;
                case JobTimer.RunTimeout:
                    OnRunTimeout();
                    break;
                case JobTimer.StopDeadline:
                    OnStopDeadline();
                    break;
                case JobTimer.Kill:
                    OnKillTimeElapsed();
                    break;
                case JobTimer.RestartBackoff:
                    OnBackoffEnded();
                    break;
                case JobTimer.Watchdog:
                    OnWatchdogMissed();
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnHeartbeat()
        {
            switch (_m.State)
            {
                case Waiting:
                    // v3 checks nothing before the first start ("idle"), except the always-healthy telemetry _job.
                    if (_job.IsAlwaysHealthy)
                    {
                        Beat();
                    }
                    break;
                case Running or RestartQueued or Exited:
                    Beat();
                    break;
                case var state when state.IsHeldByOperator() || state.IsHalting():
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void Beat()
        {
            if (_m.InMaintenance)
            {
                return;
            }
            if (_job.HasCheck)
            {
                if (_job.HasNotify && !NotifyNow.Ready)
                {
                    Emit(new WriteLog(LogLevel.Debug, $"{_job.CheckName} waits for READY=1, tick skipped"));
                }
                else if (_m.Probe is not null)
                {
                    Emit(new WriteLog(LogLevel.Debug, $"{_job.CheckName}: previous check still running, tick skipped"));
                }
                else
                {
                    Emit(new StartCheck());
                }
            }
            else if (_job.HasNotify)
            {
                // As a passing check would, every interval, while the run is ready (and its watchdog kept).
                if (_m.Run is not null && NotifyAllowsHealthy)
                {
                    BecomeHealthy();
                }
            }
            else
            {
                Call(ServiceCall.Heartbeat);
            }
        }

        private void OnCheckStarted(IHealthProbe probe)
        {
            switch (_m.State)
            {
                case Waiting or Running or RestartQueued or Exited when _m.Probe is null:
                    _m = _m with { Probe = probe };
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnCheckFinished(IHealthProbe probe, HealthCheckResult result)
        {
            if (!ReferenceEquals(_m.Probe, probe) || !(_m.State.IsLive() || _m.State is Stopping or Terminating))
            {
                Impossible();
                return;
            }
            _m = _m with { Probe = null };
            if (_m.State != Terminating)
            {
                // Leftovers of the check's process group go with it (a termination already under way sees to them itself).
                TerminateCheck(probe, Budget, forHalt: false);
            }
            if (result.Outcome == HealthCheckOutcome.CouldNotStart)
            {
                Emit(new WriteLog(LogLevel.Error, $"unable to start {_job.CheckName}: {result.Detail}"));
                PublishEvent(EventCode.ExitFailed, _job.CheckName);
                PublishEvent(EventCode.Error, result.Detail);
            }
            else
            {
                PublishExit(_job.CheckName, result.Passed, result.Detail);
            }
            switch (_m.State)
            {
                case var state when state.IsLive():
                    // On every result, not only on change (jobs with `each: healthy` rely on it); nothing in maintenance.
                    if (_m.InMaintenance)
                    {
                        break;
                    }
                    if (result.Passed && NotifyAllowsHealthy)
                    {
                        BecomeHealthy();
                    }
                    else
                    {
                        SetHealth(HealthStatus.Unhealthy);
                        PublishEvent(EventCode.StatusUnhealthy, Name);
                    }
                    break;
                case Stopping:
                    break;
                case Terminating:
                    FinishTerminating();
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnIntervalTick()
        {
            if (_job.Config.When.Cron is { } cron && _m.State.IsLive() && !IsCronRunDue(cron))
            {
                return;
            }
            switch (_m.State)
            {
                case Waiting or Running or RestartQueued or Exited:
                    if (!RestartPolicy.RestartPermitted(_job.Config.Restarts, _m.RestartsRemain))
                    {
                        Emit(new WriteLog(LogLevel.Debug, $"interval expired but restart not permitted: {Name}"));
                        _m = _m with { Trigger = default };
                        Halt();
                    }
                    else if (_m.Run is not null)
                    {
                        Emit(new WriteLog(LogLevel.Warn, $"job {Name}: previous run is still alive at the next interval, tick skipped"));
                    }
                    else
                    {
                        _m = _m with { RestartsRemain = _m.RestartsRemain - 1 };
                        StartExec();
                    }
                    break;
                case var state when state.IsHeldByOperator() || state.IsHalting():
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnWhenTimeout()
        {
            switch (_m.State)
            {
                case var state when state.IsLive():
                    if (_m.WhenTimeoutArmed)
                    {
                        _m = _m with { WhenTimeoutArmed = false, WhenTimeoutDue = null };
                        PublishEvent(EventCode.TimerExpired, Name);
                        // v3 sends itself quit.
                        OnQuit();
                    }
                    break;
                case var state when state.IsHalting():
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnRunTimeout()
        {
            switch (_m.State)
            {
                case Running or RestartQueued or Holding or Stopping or Terminating when _m.Run is { } run:
                    var limit = _job.Config.Timeout ?? TimeSpan.Zero;
                    Emit(new WriteLog(LogLevel.Warn, $"{Name} timeout after {GoDuration.Format(limit)}: '{_job.Config.Exec}'"));
                    Emit(new SignalRun(run, SignalNames.SIGKILL));
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnStopDeadline()
        {
            switch (_m.State)
            {
                case Stopping:
                    Emit(new WriteLog(LogLevel.Warn,
                        $"job {Name}: stopTimeout reached while waiting for {string.Join(", ", _m.AwaitedDependents.Order(StringComparer.Ordinal))}"));
                    EnterTerminating(deadlineArmed: false);
                    break;
                case Holding when !_m.AwaitedDependents.IsEmpty:
                    Emit(new WriteLog(LogLevel.Warn,
                        $"job {Name}: stopTimeout reached while waiting for {string.Join(", ", _m.AwaitedDependents.Order(StringComparer.Ordinal))}"));
                    TerminateHeldRun(deadlineArmed: false);
                    break;
                case Terminating or Deregistering:
                    break;
                default:
                    Impossible();
                    break;
            }
        }
    }
}
