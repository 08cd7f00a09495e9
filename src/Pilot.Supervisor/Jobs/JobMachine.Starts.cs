using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Processes;
using static Pilot.Supervisor.Control.JobState;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>How a job starts: its loop begins, bus events and triggers, launching the exec, the run ending, restarts.</summary>
public static partial class JobMachine
{
    private sealed partial class Transition
    {
        private void OnBegin()
        {
            switch (_m.State)
            {
                case Idle:
                    MoveTo(Waiting);
                    // A heartbeat runs the check or tells Consul: with neither (the telemetry job without Consul) it
                    // would only wake Pilot up every interval for nothing.
                    if (_job.Config.Health is { } health && health.Interval > TimeSpan.Zero && (_job.HasCheck || _job.HasService || _job.HasNotify))
                    {
                        Emit(new ArmTimer(JobTimer.Heartbeat, health.Interval, Periodic: true));
                    }
                    if (_m.WhenTimeoutArmed)
                    {
                        _m = _m with { WhenTimeoutDue = Now + _job.Config.When.Timeout!.Value };
                        Emit(new ArmTimer(JobTimer.WhenTimeout, _job.Config.When.Timeout!.Value, Periodic: false));
                    }
                    if (_job.Config.When.Interval is { } every)
                    {
                        Emit(new ArmTimer(JobTimer.Interval, every, Periodic: true));
                    }
                    else if (_job.Config.When.Cron is { } cron)
                    {
                        ScheduleNextCronRun(cron);
                    }
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnBusEvent(Event e)
        {
            switch (_m.State)
            {
                case var state when state.IsLive():
                    _m = _m with { LastEvent = Now };
                    TrackStoppedDependent(e);
                    if (_m.State == Holding && EndsAwaitedDependent(e))
                    {
                        _m = _m with { AwaitedDependents = _m.AwaitedDependents.Remove(e.Source) };
                        if (_m.AwaitedDependents.IsEmpty)
                        {
                            TerminateHeldRun(deadlineArmed: true);
                        }
                    }
                    OnLiveEvent(e);
                    break;
                case Stopping:
                    _m = _m with { LastEvent = Now };
                    if (EndsAwaitedDependent(e))
                    {
                        _m = _m with { AwaitedDependents = _m.AwaitedDependents.Remove(e.Source) };
                        if (_m.AwaitedDependents.IsEmpty)
                        {
                            EnterTerminating(deadlineArmed: true);
                        }
                    }
                    break;
                case Terminating or Deregistering:
                    // v3 discards events while it stops.
                    _m = _m with { LastEvent = Now };
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        /// <summary>v3's cases in v3's order (timers and check results have inputs of their own); the first match wins.</summary>
        private void OnLiveEvent(Event e)
        {
            if (e == Event.GlobalShutdown)
            {
                _m = _m with { ShutdownSeen = true };
                OnQuit();
            }
            else if (e == new Event(EventCode.EnterMaintenance, Event.GlobalSource))
            {
                _m = _m with { InMaintenance = true };
                SetHealth(HealthStatus.Maintenance);
                Call(ServiceCall.EnterMaintenance);
                if (e == _m.Trigger)
                {
                    OnTrigger();
                }
            }
            else if (e == new Event(EventCode.ExitMaintenance, Event.GlobalSource))
            {
                _m = _m with { InMaintenance = false };
                SetHealth(HealthStatus.Unknown);
                Call(ServiceCall.ExitMaintenance);
                NotifyAfterMaintenance();
                if (e == _m.Trigger)
                {
                    OnTrigger();
                }
            }
            else if ((e.Source == Name || e.Source == _job.CheckName) && e.Code is EventCode.ExitSuccess or EventCode.ExitFailed)
            {
                // Its own exits: handled when the run or probe ends (RunExited, CheckFinished), never again from the bus.
            }
            else if (e.Code == EventCode.Signal && e.Source is "SIGHUP" or "SIGUSR2")
            {
                if (e == _m.Trigger && !IsHeldByOperator)
                {
                    StartExec();
                }
            }
            else if (_m.Trigger != default && e == _m.Trigger)
            {
                OnTrigger();
            }
        }

        /// <summary>A shutdown-dependent that has stopped (and not started again since) is not waited for.</summary>
        private void TrackStoppedDependent(Event e)
        {
            if (_job.ShutdownDependents.Contains(e.Source))
            {
                _m = _m with
                {
                    StoppedDependents = e.Code == EventCode.Stopped ? _m.StoppedDependents.Add(e.Source) : _m.StoppedDependents.Remove(e.Source),
                };
            }
        }

        /// <summary>v3's quit/shutdown case: no more restarts; pre-stop and post-stop jobs stay until their trigger has run.</summary>
        private void OnQuit()
        {
            if (IsHeldByOperator)
            {
                HaltForGood();
                return;
            }
            _m = _m with { RestartsRemain = 0 };
            DropQueuedStart();
            if (_m.Trigger.Code is EventCode.Stopping or EventCode.Stopped && _job.Config.Exec is not null)
            {
                if (_m.StartsRemain == JobMemory.Unlimited)
                {
                    _m = _m with { StartsRemain = 1 };
                }
                return;
            }
            HaltForGood();
        }

        /// <summary>v3's trigger case: no starts left halts; else use one (clearing the trigger on the last) and start.</summary>
        private void OnTrigger()
        {
            if (IsHeldByOperator)
            {
                return;
            }
            if (_m.StartsRemain == 0)
            {
                _m = _m with { Trigger = default };
                Halt();
                return;
            }
            if (_job.IsStopHook && !_m.ShutdownSeen)
            {
                // A pre-stop/post-stop job runs at every stop of its source: a restart, `pilot stop` or reload must not use
                // it up (the next stop, or the shutdown, runs it again). Only on shutdown is its start used.
            }
            else if (_m.StartsRemain != JobMemory.Unlimited)
            {
                var starts = _m.StartsRemain - 1;
                // Do not take the trigger again while this run is still going.
                _m = _m with { StartsRemain = starts, Trigger = starts == 0 || _m.RestartsRemain == 0 ? default : _m.Trigger };
            }
            StartExec();
        }

        /// <summary>v3's startExec: the when-timeout no longer counts, health is unknown again, the exec starts or is queued.</summary>
        private void StartExec()
        {
            CancelBackoff();
            if (_m.WhenTimeoutArmed)
            {
                _m = _m with { WhenTimeoutArmed = false, WhenTimeoutDue = null };
                Emit(new DisarmTimer(JobTimer.WhenTimeout));
            }
            SetHealth(HealthStatus.Unknown);
            if (_job.Config.Exec is null)
            {
                // Nothing to run: the job is active (heartbeats) until it halts.
                MoveTo(Running);
                return;
            }
            switch (_m.State)
            {
                case Waiting or Exited or Stopped:
                    MoveTo(Starting);
                    Emit(new LaunchRun());
                    break;
                case Running:
                    // v3 blocked its loop here until the run ended; Pilot queues one start (later ones coalesce into it).
                    Emit(new WriteLog(LogLevel.Info, $"job {Name}: previous run (pid {_m.Run?.Pid}) is still alive, start queued until it exits"));
                    MoveTo(RestartQueued);
                    break;
                case Holding:
                    MoveTo(RestartQueued);
                    break;
                case RestartQueued:
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnRunStarted(IRunningProcess run)
        {
            switch (_m.State)
            {
                case Starting:
                    MoveTo(Running);
                    _m = _m with { Run = run, LastStarted = Now };
                    NotifyRunStarted();
                    Emit(new SetPidVariable(_job.PidVariable!, run.Pid));
                    if (_job.Config.Timeout is { } limit && limit > TimeSpan.Zero)
                    {
                        Emit(new ArmTimer(JobTimer.RunTimeout, limit, Periodic: false));
                    }
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnRunStartFailed(string message)
        {
            switch (_m.State)
            {
                case Starting:
                    Emit(new WriteLog(LogLevel.Error, $"unable to start {Name}: {message}"));
                    PublishEvent(EventCode.ExitFailed, Name);
                    PublishEvent(EventCode.Error, message);
                    MoveTo(Exited);
                    switch (DecideAfter(ApplyExitPolicy(success: false, LaunchFailedExitCode)))
                    {
                        case AfterExit.Restart:
                            UseRestart();
                            if (!BackOff(lastRun: TimeSpan.Zero))
                            {
                                // Behind what is already queued, as v3 restarts when its exitFailed comes back from the bus:
                                // a launch that always fails must not keep the loop from shutdown.
                                Emit(new Enqueue(new RestartDue()));
                            }
                            break;
                        case AfterExit.Halt:
                            HaltAfterLastRun();
                            break;
                        case AfterExit.Wait:
                            break;
                    }
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnRunExited(IRunningProcess run, ProcessExit exit)
        {
            if (!ReferenceEquals(_m.Run, run) || _m.State is not (Running or RestartQueued or Holding or Stopping or Terminating))
            {
                Impossible();
                return;
            }
            _m = _m with { Run = null, LastExit = exit, LastExited = Now };
            if (_job.Config.Timeout is { } limit && limit > TimeSpan.Zero)
            {
                Emit(new DisarmTimer(JobTimer.RunTimeout));
            }
            Emit(new SetPidVariable(_job.PidVariable!, null));
            if (!RunTerminationStarted)
            {
                // Leftovers of the run's process group go with it, as in v3 (a termination already under way sees to them itself).
                TerminateGroup(run, _job.Config.StopSignal, Budget, forHalt: false);
            }
            PublishExit(Name, exit.Success, exit.ToString());
            NotifyRunEnded();
            var shutdownAsked = _m.State is Running or RestartQueued && ApplyExitPolicy(exit.Success, exit.ShellCode);
            switch (_m.State)
            {
                case Running:
                    MoveTo(Exited);
                    switch (DecideAfter(shutdownAsked))
                    {
                        case AfterExit.Restart:
                            UseRestart();
                            if (!BackOff(lastRun: _m.LastStarted is { } started ? Now - started : TimeSpan.Zero))
                            {
                                StartExec();
                            }
                            break;
                        case AfterExit.Halt:
                            HaltAfterLastRun();
                            break;
                        case AfterExit.Wait:
                            break;
                    }
                    break;
                case RestartQueued:
                    MoveTo(Exited);
                    StartExec();
                    break;
                case Holding:
                    FinishOperatorStop();
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

        private void OnRestartDue()
        {
            switch (_m.State)
            {
                case Exited:
                    StartExec();
                    break;
                case var state when state.IsLive() || state.IsHalting():
                    // Something else started or stopped the job since the restart was decided.
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void HaltAfterLastRun()
        {
            Emit(new WriteLog(LogLevel.Debug, $"job exited but restart not permitted: {Name}"));
            _m = _m with { Trigger = default };
            SetHealth(HealthStatus.Unknown);
            Halt();
        }
    }
}
