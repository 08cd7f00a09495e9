using System.Globalization;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Notify;
using static Pilot.Supervisor.Control.JobState;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>
/// <c>health.notify</c> (issue 27): readiness told by the job's run over its notify socket. <c>READY=1</c> makes the
/// job healthy as a passing check does (with a check too, the checks start then and decide); <c>WATCHDOG=1</c> with
/// <c>health.ttl</c> is a liveness heartbeat, a missed one makes the job unhealthy as a failed check does;
/// <c>STATUS=</c>, <c>STOPPING=1</c> and <c>RELOADING=1</c> are shown. Only datagrams from the run's processes count.
/// </summary>
public static partial class JobMachine
{
    private sealed partial class Transition
    {
        private NotifyState NotifyNow => _m.Notify ?? new NotifyState();

        /// <summary>The run told what a check needs before it may count: always true for a job without notify.</summary>
        private bool NotifyAllowsHealthy => !_job.HasNotify || (NotifyNow.Ready && !NotifyNow.WatchdogMissed);

        /// <summary>States in which the run's word changes its health (as a check result does; not while halting).</summary>
        private bool HealthFollowsRun => _m.State is Running or RestartQueued or Holding && !_m.InMaintenance;

        private TimeSpan WatchdogLimit => TimeSpan.FromSeconds(_job.Config.Health?.TtlSeconds ?? 0);

        private void OnNotifyReceived(NotifyMessage message, NotifySender sender)
        {
            if (!_job.HasNotify)
            {
                Impossible();
                return;
            }
            if (_m.Run is not { } run || !sender.IsFrom(run.Pid))
            {
                _m = _m with { Notify = NotifyNow with { Foreign = NotifyNow.Foreign + 1 } };
                Emit(new WriteLog(LogLevel.Debug, $"job {Name}: notify: ignored '{message}' from {sender}: not a process of the job's run"));
                return;
            }
            Emit(new WriteLog(LogLevel.Debug, $"job {Name}: notify: {message}"));
            var said = NotifyNow with { Accepted = NotifyNow.Accepted + 1 };
            if (message.Status is { } status)
            {
                said = said with { Status = status };
            }
            if (message.Stopping)
            {
                said = said with { Stopping = true };
            }
            if (message.Reloading)
            {
                said = said with { Reloading = true };
            }
            _m = _m with { Notify = said };
            if (message.Ready)
            {
                OnReady();
            }
            if (message.Watchdog)
            {
                OnWatchdog();
            }
        }

        private void OnNotifyIgnored(NotifyIgnoredReason reason, string detail)
        {
            if (!_job.HasNotify)
            {
                Impossible();
                return;
            }
            _m = _m with
            {
                Notify = reason == NotifyIgnoredReason.Oversized
                    ? NotifyNow with { Oversized = NotifyNow.Oversized + 1 }
                    : NotifyNow with { Malformed = NotifyNow.Malformed + 1 },
            };
            Emit(new WriteLog(LogLevel.Debug, $"job {Name}: notify: ignored a datagram: {detail}"));
        }

        private void OnReady()
        {
            var first = !NotifyNow.Ready;
            _m = _m with { Notify = NotifyNow with { Ready = true, Reloading = false } };
            if (!first)
            {
                return;
            }
            if (!HealthFollowsRun)
            {
                return;
            }
            if (_job.HasCheck)
            {
                // The checks waited for READY=1: the first one runs now, not at the next tick.
                if (_m.Probe is null && _m.State is Running or RestartQueued)
                {
                    Emit(new StartCheck());
                }
            }
            else if (NotifyAllowsHealthy)
            {
                BecomeHealthy();
            }
        }

        private void OnWatchdog()
        {
            var missed = NotifyNow.WatchdogMissed;
            _m = _m with { Notify = NotifyNow with { LastWatchdog = Now, WatchdogMissed = false } };
            if (WatchdogLimit > TimeSpan.Zero)
            {
                Emit(new ArmTimer(JobTimer.Watchdog, WatchdogLimit, Periodic: false));
            }
            if (missed)
            {
                Emit(new WriteLog(LogLevel.Info, $"job {Name}: notify: WATCHDOG=1 again"));
                if (HealthFollowsRun && !_job.HasCheck && NotifyAllowsHealthy)
                {
                    BecomeHealthy();
                }
            }
        }

        private void OnWatchdogMissed()
        {
            switch (_m.State)
            {
                case Running or RestartQueued or Holding when _m.Run is not null && NotifyNow.LastWatchdog is not null:
                    _m = _m with { Notify = NotifyNow with { WatchdogMissed = true } };
                    Emit(new WriteLog(LogLevel.Warn,
                        $"job {Name}: notify: no WATCHDOG=1 for {WatchdogLimit.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s (health.ttl): unhealthy"));
                    if (!_m.InMaintenance)
                    {
                        SetHealth(HealthStatus.Unhealthy);
                        PublishEvent(EventCode.StatusUnhealthy, Name);
                    }
                    break;
                default:
                    // The run ended or the job is halting: its watchdog no longer matters.
                    break;
            }
        }

        /// <summary>
        /// Out of maintenance, a run that said READY=1 (and kept its watchdog) is healthy again at once: a notify job
        /// with no check and no interval has no tick that would say so.
        /// </summary>
        private void NotifyAfterMaintenance()
        {
            if (_job.HasNotify && !_job.HasCheck && HealthFollowsRun && NotifyAllowsHealthy && _m.Run is not null)
            {
                BecomeHealthy();
            }
        }

        /// <summary>A new run has said nothing yet.</summary>
        private void NotifyRunStarted()
        {
            if (_job.HasNotify)
            {
                _m = _m with { Notify = NotifyNow.ForNewRun() };
            }
        }

        /// <summary>The run that said READY=1 is gone: the job is not ready (nor healthy) until the next run says so.</summary>
        private void NotifyRunEnded()
        {
            if (!_job.HasNotify)
            {
                return;
            }
            if (NotifyNow.LastWatchdog is not null)
            {
                Emit(new DisarmTimer(JobTimer.Watchdog));
            }
            var wasReady = NotifyNow.Ready;
            _m = _m with { Notify = NotifyNow with { Ready = false, Reloading = false } };
            if (wasReady && _m.Health == HealthStatus.Healthy && !_m.InMaintenance)
            {
                SetHealth(HealthStatus.Unhealthy);
                PublishEvent(EventCode.StatusUnhealthy, Name);
            }
        }

        /// <summary>
        /// The run is healthy (a check passed, or READY=1): events and heartbeat as a passing check, and the restart
        /// backoff starts over (the next failure waits <c>initial</c> again).
        /// </summary>
        private void BecomeHealthy()
        {
            SetHealth(HealthStatus.Healthy);
            PublishEvent(EventCode.StatusHealthy, Name);
            Call(ServiceCall.Heartbeat);
            ResetBackoffWhenHealthy();
        }

        private void ResetBackoffWhenHealthy()
        {
            if (_m.BackoffBase is not null && _m.Run is not null)
            {
                _m = _m with { BackoffBase = null };
            }
        }
    }
}
