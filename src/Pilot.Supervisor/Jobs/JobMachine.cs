using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Config.Decoding;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Health;
using Pilot.Supervisor.Processes;
using static Pilot.Supervisor.Control.JobState;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>The memory after one input and the effects the loop must carry out, in order.</summary>
public sealed record JobStep(JobMemory Memory, ImmutableArray<JobEffect> Effects);

/// <summary>
/// A job's state machine: <c>(memory, input) → (memory', effects)</c>, pure — no clock, no processes, no I/O. It
/// follows v3's <c>jobs.processEvent</c> (reference Part A §2–3) with Pilot's departures: a start while the run is
/// alive is queued (never blocks); stopping waits for every stopping-dependent within one stop budget, then terminates
/// the process groups (SIGTERM, SIGKILL when the budget ends); stop/start/restart commands. Every handler switches on
/// the state; an input that cannot happen in a state is reported as an internal error naming both.
/// docs/job-states.md shows the transitions; a test checks it against this code.
/// </summary>
public static class JobMachine
{
    public static JobStep Handle(JobDefinition job, JobMemory memory, JobInput input, JobMoment moment)
    {
        var transition = new Transition(job, memory, input, moment);
        transition.Run();
        return transition.Result();
    }

    private sealed class Transition(JobDefinition job, JobMemory memory, JobInput input, JobMoment moment)
    {
        private readonly List<JobEffect> _effects = [];
        private JobMemory _m = memory;

        private string Name => job.Name;

        private DateTimeOffset Now => moment.Now;

        /// <summary>The job's stop budget, with the global <c>stopTimeout</c> in force now.</summary>
        private TimeSpan Budget => StopTimeouts.For(job.Config.StopTimeout, moment.GlobalStopTimeout);

        public JobStep Result() => new(_m, [.. _effects]);

        public void Run()
        {
            switch (input)
            {
                case Begin:
                    OnBegin();
                    break;
                case BusEvent bus:
                    OnBusEvent(bus.Event);
                    break;
                case TimerFired timer:
                    OnTimer(timer.Timer);
                    break;
                case RunStarted started:
                    OnRunStarted(started.Run);
                    break;
                case RunStartFailed failed:
                    OnRunStartFailed(failed.Message);
                    break;
                case RunExited exited:
                    OnRunExited(exited.Run, exited.Exit);
                    break;
                case RestartDue:
                    OnRestartDue();
                    break;
                case CheckStarted started:
                    OnCheckStarted(started.Probe);
                    break;
                case CheckFinished finished:
                    OnCheckFinished(finished.Probe, finished.Result);
                    break;
                case TerminationFinished terminated:
                    OnTerminationFinished(terminated.Killed);
                    break;
                case Deregistered:
                    OnDeregistered();
                    break;
                case ForwardSignal forward:
                    OnForwardSignal(forward.Signal);
                    if (forward.Reply is { } answer)
                    {
                        Emit(new Reply(answer));
                    }
                    break;
                case Command command:
                    OnCommand(command.Kind);
                    if (command.Reply is { } reply)
                    {
                        Emit(new Reply(reply));
                    }
                    break;
                default:
                    Impossible();
                    break;
            }
            // v3 tries the initial_status registration before every receive; the registration makes repeats no-ops.
            if (job.Config.InitialStatus is not null && job.HasService && IsLive(_m.State))
            {
                Emit(new CallService(ServiceCall.EnsureInitialRegistration));
            }
        }

        private static bool IsLive(JobState state) => state is Waiting or Running or RestartQueued or Exited or Holding or Held;

        private static bool IsHalting(JobState state) => state is Stopping or Terminating or Deregistering;

        private bool IsHeld => _m.State is Held or Holding;

        private void OnBegin()
        {
            switch (_m.State)
            {
                case Idle:
                    _m = _m with { State = Waiting };
                    if (job.Config.Health is { } health && health.Interval > TimeSpan.Zero)
                    {
                        Emit(new ArmTimer(JobTimer.Heartbeat, health.Interval, Periodic: true));
                    }
                    if (_m.WhenTimeoutArmed)
                    {
                        Emit(new ArmTimer(JobTimer.WhenTimeout, job.Config.When.Timeout!.Value, Periodic: false));
                    }
                    if (job.Config.When.Interval is { } every)
                    {
                        Emit(new ArmTimer(JobTimer.Interval, every, Periodic: true));
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
                case Waiting or Running or RestartQueued or Exited or Holding or Held:
                    _m = _m with { LastEvent = Now };
                    OnLiveEvent(e);
                    break;
                case Stopping:
                    _m = _m with { LastEvent = Now };
                    if (e.Code == EventCode.Stopped && _m.AwaitedDependents.Contains(e.Source))
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
                OnQuit();
            }
            else if (e == new Event(EventCode.EnterMaintenance, Event.GlobalSource))
            {
                SetHealth(HealthStatus.Maintenance);
                Call(ServiceCall.EnterMaintenance);
                if (e == _m.Trigger)
                {
                    OnTrigger();
                }
            }
            else if (e == new Event(EventCode.ExitMaintenance, Event.GlobalSource))
            {
                SetHealth(HealthStatus.Unknown);
                Call(ServiceCall.ExitMaintenance);
                if (e == _m.Trigger)
                {
                    OnTrigger();
                }
            }
            else if ((e.Source == Name || e.Source == job.CheckName) && e.Code is EventCode.ExitSuccess or EventCode.ExitFailed)
            {
                // Its own exits: handled when the run or probe ends (RunExited, CheckFinished), never again from the bus.
            }
            else if (e.Code == EventCode.Signal && e.Source is "SIGHUP" or "SIGUSR2")
            {
                if (e == _m.Trigger && !IsHeld)
                {
                    StartExec();
                }
            }
            else if (_m.Trigger != default && e == _m.Trigger)
            {
                OnTrigger();
            }
        }

        /// <summary>v3's quit/shutdown case: no more restarts; pre-stop and post-stop jobs stay until their trigger has run.</summary>
        private void OnQuit()
        {
            if (IsHeld)
            {
                HaltForGood();
                return;
            }
            _m = _m with { RestartsRemain = 0, State = _m.State == RestartQueued ? Running : _m.State };
            if (_m.Trigger.Code is EventCode.Stopping or EventCode.Stopped && job.Config.Exec is not null)
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
            if (IsHeld)
            {
                return;
            }
            if (_m.StartsRemain == 0)
            {
                _m = _m with { Trigger = default };
                Halt();
                return;
            }
            if (_m.StartsRemain != JobMemory.Unlimited)
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
            if (_m.WhenTimeoutArmed)
            {
                _m = _m with { WhenTimeoutArmed = false };
                Emit(new DisarmTimer(JobTimer.WhenTimeout));
            }
            SetHealth(HealthStatus.Unknown);
            if (job.Config.Exec is null)
            {
                // Nothing to run: the job is active (heartbeats) until it halts.
                _m = _m with { State = Running };
                return;
            }
            switch (_m.State)
            {
                case Waiting or Exited or Held:
                    _m = _m with { State = Starting };
                    Emit(new LaunchRun());
                    break;
                case Running:
                    // v3 blocked its loop here until the run ended; Pilot queues one start (later ones coalesce into it).
                    Emit(new WriteLog(LogLevel.Info, $"job {Name}: previous run (pid {_m.Run?.Pid}) is still alive, start queued until it exits"));
                    _m = _m with { State = RestartQueued };
                    break;
                case Holding:
                    _m = _m with { State = RestartQueued };
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
                    _m = _m with { State = Running, Run = run, LastStarted = Now };
                    Emit(new SetPidVariable(job.PidVariable!, run.Pid));
                    if (job.Config.Timeout is { } limit && limit > TimeSpan.Zero)
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
                    _m = _m with { State = Exited };
                    switch (Decide())
                    {
                        case AfterExit.Restart:
                            UseRestart();
                            // Behind what is already queued, as v3 restarts when its exitFailed comes back from the bus:
                            // a launch that always fails must not keep the loop from shutdown.
                            Emit(new Enqueue(new RestartDue()));
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
            if (job.Config.Timeout is { } limit && limit > TimeSpan.Zero)
            {
                Emit(new DisarmTimer(JobTimer.RunTimeout));
            }
            Emit(new SetPidVariable(job.PidVariable!, null));
            if (_m.State is not (Terminating or Holding))
            {
                // Leftovers of the run's process group go with it, as in v3 (a termination already under way sees to them itself).
                Emit(new TerminateGroups(run, null, Budget, Report: false));
            }
            PublishExit(Name, exit.Success, exit.ToString());
            switch (_m.State)
            {
                case Running:
                    _m = _m with { State = Exited };
                    switch (Decide())
                    {
                        case AfterExit.Restart:
                            UseRestart();
                            StartExec();
                            break;
                        case AfterExit.Halt:
                            HaltAfterLastRun();
                            break;
                        case AfterExit.Wait:
                            break;
                    }
                    break;
                case RestartQueued:
                    _m = _m with { State = Exited };
                    StartExec();
                    break;
                case Holding:
                    _m = _m with { State = Held };
                    break;
                case Stopping or Terminating:
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
                case Waiting or Running or RestartQueued or Holding or Held or Stopping or Terminating or Deregistering:
                    // Something else started or stopped the job since the restart was decided.
                    break;
                default:
                    Impossible();
                    break;
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
            if (!ReferenceEquals(_m.Probe, probe) || !(IsLive(_m.State) || _m.State is Stopping or Terminating))
            {
                Impossible();
                return;
            }
            _m = _m with { Probe = null };
            if (_m.State != Terminating)
            {
                Emit(new TerminateGroups(null, probe, Budget, Report: false));
            }
            if (result.Outcome == HealthCheckOutcome.CouldNotStart)
            {
                Emit(new WriteLog(LogLevel.Error, $"unable to start {job.CheckName}: {result.Detail}"));
                PublishEvent(EventCode.ExitFailed, job.CheckName);
                PublishEvent(EventCode.Error, result.Detail);
            }
            else
            {
                PublishExit(job.CheckName, result.Passed, result.Detail);
            }
            switch (_m.State)
            {
                case Waiting or Running or RestartQueued or Exited or Holding or Held:
                    // On every result, not only on change (jobs with `each: healthy` rely on it); nothing in maintenance.
                    if (_m.Health == HealthStatus.Maintenance)
                    {
                        break;
                    }
                    if (result.Passed)
                    {
                        SetHealth(HealthStatus.Healthy);
                        PublishEvent(EventCode.StatusHealthy, Name);
                        Call(ServiceCall.Heartbeat);
                    }
                    else
                    {
                        SetHealth(HealthStatus.Unhealthy);
                        PublishEvent(EventCode.StatusUnhealthy, Name);
                    }
                    break;
                case Stopping or Terminating:
                    break;
                default:
                    Impossible();
                    break;
            }
        }

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
                    // v3 checks nothing before the first start ("idle"), except the always-healthy telemetry job.
                    if (job.IsAlwaysHealthy)
                    {
                        Beat();
                    }
                    break;
                case Running or RestartQueued or Exited:
                    Beat();
                    break;
                case Holding or Held or Stopping or Terminating or Deregistering:
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void Beat()
        {
            if (_m.Health == HealthStatus.Maintenance)
            {
                return;
            }
            if (job.HasCheck)
            {
                if (_m.Probe is not null)
                {
                    Emit(new WriteLog(LogLevel.Debug, $"{job.CheckName}: previous check still running, tick skipped"));
                }
                else
                {
                    Emit(new StartCheck());
                }
            }
            else
            {
                Call(ServiceCall.Heartbeat);
            }
        }

        private void OnIntervalTick()
        {
            switch (_m.State)
            {
                case Waiting or Running or RestartQueued or Exited:
                    if (!RestartPolicy.RestartPermitted(job.Config.Restarts, _m.RestartsRemain))
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
                case Holding or Held or Stopping or Terminating or Deregistering:
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
                case Waiting or Running or RestartQueued or Exited or Holding or Held:
                    if (_m.WhenTimeoutArmed)
                    {
                        _m = _m with { WhenTimeoutArmed = false };
                        PublishEvent(EventCode.TimerExpired, Name);
                        // v3 sends itself quit.
                        OnQuit();
                    }
                    break;
                case Stopping or Terminating or Deregistering:
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
                    var limit = job.Config.Timeout ?? TimeSpan.Zero;
                    Emit(new WriteLog(LogLevel.Warn, $"{Name} timeout after {GoDuration.Format(limit)}: '{job.Config.Exec}'"));
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
                case Terminating or Deregistering:
                    break;
                default:
                    Impossible();
                    break;
            }
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

        private void OnDeregistered()
        {
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

        private void OnCommand(JobCommand command)
        {
            switch (command)
            {
                case JobCommand.Retire:
                    OnRetire();
                    break;
                case JobCommand.Stop:
                    OnStop();
                    break;
                case JobCommand.Start:
                    OnStart();
                    break;
                case JobCommand.Restart:
                    OnRestart();
                    break;
                case JobCommand.Kill:
                    OnKill();
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnRetire()
        {
            switch (_m.State)
            {
                case Waiting or Running or RestartQueued or Exited or Holding or Held:
                    _m = _m with { RestartsRemain = 0, State = _m.State == RestartQueued ? Running : _m.State };
                    HaltForGood();
                    break;
                case Stopping or Terminating or Deregistering:
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnStop()
        {
            switch (_m.State)
            {
                case Waiting or Exited:
                    _m = _m with { State = Held };
                    break;
                case Running or RestartQueued when _m.Run is { } run:
                    _m = _m with { State = Holding };
                    Emit(new TerminateGroups(run, null, Budget, Report: false));
                    break;
                case Running:
                    _m = _m with { State = Held };
                    break;
                case Holding or Held or Stopping or Terminating or Deregistering:
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnStart()
        {
            switch (_m.State)
            {
                case Waiting or Exited or Held or Holding:
                    StartExec();
                    break;
                case Running or RestartQueued or Stopping or Terminating or Deregistering:
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnRestart()
        {
            switch (_m.State)
            {
                case Running or RestartQueued when _m.Run is { } run:
                    _m = _m with { State = RestartQueued };
                    Emit(new TerminateGroups(run, null, Budget, Report: false));
                    break;
                case Waiting or Exited or Held or Holding or Running:
                    StartExec();
                    break;
                case Stopping or Terminating or Deregistering:
                    break;
                default:
                    Impossible();
                    break;
            }
        }

        private void OnKill()
        {
            if (_m.Run is null && _m.Probe is null)
            {
                return;
            }
            Emit(new WriteLog(LogLevel.Info, $"killing processes for job \"{Name}\""));
            OnForwardSignal(SignalNames.SIGKILL);
        }

        private AfterExit Decide() =>
            RestartPolicy.Decide(job.Config.When.IsPeriodic, job.Config.Restarts, _m.RestartsRemain, _m.StartsRemain);

        private void UseRestart() => _m = _m with { RestartsRemain = _m.RestartsRemain - 1, Restarts = _m.Restarts + 1 };

        private void HaltAfterLastRun()
        {
            Emit(new WriteLog(LogLevel.Debug, $"job exited but restart not permitted: {Name}"));
            _m = _m with { Trigger = default };
            SetHealth(HealthStatus.Unknown);
            Halt();
        }

        /// <summary>Halt whatever the trigger: nothing may start the job again.</summary>
        private void HaltForGood()
        {
            _m = _m with { StartsRemain = 0, Trigger = default };
            Halt();
        }

        /// <summary>v3's cleanup begins: timers stop, <c>stopping</c> is published, the stop budget starts.</summary>
        private void Halt()
        {
            if (job.Config.Health is { } health && health.Interval > TimeSpan.Zero)
            {
                Emit(new DisarmTimer(JobTimer.Heartbeat));
            }
            if (job.Config.When.IsPeriodic)
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
            if (!job.StopDependents.IsEmpty && budget > TimeSpan.Zero)
            {
                _m = _m with { AwaitedDependents = job.StopDependents };
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

        private void AfterTermination()
        {
            if (job.HasService)
            {
                _m = _m with { State = Deregistering };
                Emit(new Deregister());
            }
            else
            {
                Complete();
            }
        }

        private void Complete()
        {
            _m = _m with { State = Completed };
            Emit(new LeaveBus());
            PublishEvent(EventCode.Stopped, Name);
        }

        private void PublishExit(string source, bool success, string detail)
        {
            if (success)
            {
                Emit(new WriteLog(LogLevel.Debug, $"{source} exited without error"));
                PublishEvent(EventCode.ExitSuccess, source);
            }
            else
            {
                Emit(new WriteLog(LogLevel.Error, $"{source} exited with error: {detail}"));
                PublishEvent(EventCode.ExitFailed, source);
                PublishEvent(EventCode.Error, $"{source}: {detail}");
            }
        }

        private void SetHealth(HealthStatus health)
        {
            if (!job.IsAlwaysHealthy)
            {
                _m = _m with { Health = health };
            }
        }

        private void Call(ServiceCall call)
        {
            if (job.HasService)
            {
                Emit(new CallService(call));
            }
        }

        private void PublishEvent(EventCode code, string source) => Emit(new Publish(new Event(code, source)));

        private void Emit(JobEffect effect) => _effects.Add(effect);

        private void Impossible() => Emit(new ReportInternalError($"job {Name}: {input} cannot happen in state {_m.State}"));
    }
}
