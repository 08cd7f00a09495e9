using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using static Pilot.Supervisor.Control.JobState;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>The memory after one input and the effects the loop must carry out, in order.</summary>
public sealed record JobStep(JobMemory Memory, ImmutableArray<JobEffect> Effects);

/// <summary>
/// A job's state machine: <c>(memory, input) → (memory', effects)</c>, pure — no clock, no processes, no I/O. It
/// follows v3's <c>jobs.processEvent</c> (reference Part A §2–3) with Pilot's departures: a start while the run is
/// alive is queued (never blocks); stopping waits for every stopping-dependent within one stop budget, then terminates
/// the process groups (the stop signal, then SIGKILL from the machine's own kill timer when the budget ends,
/// JobMachine.Terminations.cs); stop/start/restart commands. Every handler switches on
/// the state; an input that cannot happen in a state is reported as an internal error naming both.
/// docs/job-states.md shows the transitions; a test checks it against this code.
/// </summary>
public static partial class JobMachine
{
    public static JobStep Handle(JobDefinition job, JobMemory memory, JobInput input, JobMoment moment)
    {
        var transition = new Transition(job, memory, input, moment);
        transition.Run();
        return transition.Result();
    }

    private sealed partial class Transition
    {
        private readonly JobDefinition _job;
        private readonly JobInput _input;
        private readonly JobMoment _moment;
        private readonly List<JobEffect> _effects = [];
        private JobMemory _m;

        public Transition(JobDefinition job, JobMemory memory, JobInput input, JobMoment moment)
        {
            _job = job;
            _m = memory;
            _input = input;
            _moment = moment;
        }

        private string Name => _job.Name;

        private DateTimeOffset Now => _moment.Now;

        /// <summary>The job's stop budget, with the global <c>stopTimeout</c> in force now.</summary>
        private TimeSpan Budget => StopTimeouts.For(_job.Config.StopTimeout, _moment.GlobalStopTimeout);

        /// <summary>The pre-stop jobs a stop of this job starts now and waits for (see <see cref="JobMoment.StopHooks"/>).</summary>
        private System.Collections.Immutable.ImmutableHashSet<string> StopHooks =>
            _moment.StopHooks?.Invoke(Name) ?? _job.StopDependents;

        public JobStep Result() => new(_m, [.. _effects]);

        public void Run()
        {
            switch (_input)
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
                case GroupGone gone:
                    OnGroupGone(gone.Group);
                    break;
                case Deregistered:
                    OnDeregistered();
                    break;
                case NotifyReceived notified:
                    OnNotifyReceived(notified.Message, notified.Sender);
                    break;
                case NotifyIgnored ignored:
                    OnNotifyIgnored(ignored.Reason, ignored.Detail);
                    break;
                case SourceHalted:
                    OnSourceHalted();
                    break;
                case ForwardSignal forward:
                    OnForwardSignal(forward.Signal);
                    if (forward.Reply is { } passed)
                    {
                        Emit(new SignalPassed(passed));
                    }
                    break;
                case Command command:
                    var answer = OnCommand(command.Kind);
                    if (command.Reply is { } reply)
                    {
                        if (answer == Answer.WhenStopped)
                        {
                            _m = _m with { PendingReplies = _m.PendingReplies.Add(reply) };
                        }
                        else
                        {
                            Emit(new Reply(reply, answer == Answer.Done));
                        }
                    }
                    break;
                default:
                    Impossible();
                    break;
            }
            // v3 tries the initial_status registration before every receive; the registration makes repeats no-ops.
            if (_job.Config.InitialStatus is not null && _job.HasService && _m.State.IsLive())
            {
                Emit(new CallService(ServiceCall.EnsureInitialRegistration));
            }
        }

        private bool IsHeldByOperator => _m.State.IsHeldByOperator();

        /// <summary>Every change of the job's state goes through here (and <see cref="JobMemory.MoveTo"/>).</summary>
        private void MoveTo(JobState state) => _m = _m.MoveTo(state);

        /// <summary>A start queued behind the run is dropped (no more restarts, or a shutdown is asked for): the run goes on.</summary>
        private void DropQueuedStart()
        {
            if (_m.State == RestartQueued)
            {
                MoveTo(Running);
            }
        }

        private AfterExit Decide() =>
            RestartPolicy.Decide(_job.Config.When.IsPeriodic, _job.Config.Restarts, _m.RestartsRemain, _m.StartsRemain);

        private void UseRestart() => _m = _m with { RestartsRemain = _m.RestartsRemain - 1, Restarts = _m.Restarts + 1 };

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
            if (!_job.IsAlwaysHealthy)
            {
                // Between enterMaintenance and exitMaintenance the job shows maintenance, whatever starts or stops meanwhile.
                _m = _m with { Health = _m.InMaintenance ? HealthStatus.Maintenance : health };
            }
        }

        private void Call(ServiceCall call)
        {
            if (_job.HasService)
            {
                Emit(new CallService(call));
            }
        }

        private void PublishEvent(EventCode code, string source) => Emit(new Publish(new Event(code, source)));

        private void Emit(JobEffect effect) => _effects.Add(effect);

        private void Impossible() => Emit(new ReportInternalError($"job {Name}: {_input} cannot happen in state {_m.State}"));
    }
}

