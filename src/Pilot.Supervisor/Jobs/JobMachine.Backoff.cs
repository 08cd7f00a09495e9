using Pilot.Supervisor.Config.Decoding;
using static Pilot.Supervisor.Control.JobState;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>Restart backoff (<c>restartBackoff</c>): a restart waits for a timer instead of launching at once.</summary>
public static partial class JobMachine
{
    private sealed partial class Transition
    {
        /// <summary>
        /// With a <c>restartBackoff</c>, arm the restart timer (the job stays <see cref="Exited"/>) and return true;
        /// without one return false, and the caller restarts as v3 does. <paramref name="lastRun"/> is how long the run
        /// that ended lasted (zero for a launch that failed).
        /// </summary>
        private bool BackOff(TimeSpan lastRun)
        {
            if (_job.Config.RestartBackoff is not { } backoff)
            {
                return false;
            }
            var step = RestartBackoff.Next(backoff, _m.BackoffBase, lastRun, _moment.Chance);
            _m = _m with { BackoffBase = step.Base, RestartDelay = step.Delay, NextRestart = Now + step.Delay };
            Emit(new WriteLog(LogLevel.Info, $"job {Name}: restarting in {GoDuration.Format(step.Delay)}"));
            Emit(new ArmTimer(JobTimer.RestartBackoff, step.Delay, Periodic: false));
            return true;
        }

        /// <summary>A restart waiting for its backoff timer is dropped (something else starts or stops the job).</summary>
        private void CancelBackoff()
        {
            if (_m.NextRestart is not null)
            {
                Emit(new DisarmTimer(JobTimer.RestartBackoff));
                _m = _m with { NextRestart = null };
            }
        }

        private void OnBackoffEnded()
        {
            var armed = _m.NextRestart is not null;
            _m = _m with { NextRestart = null };
            switch (_m.State)
            {
                case Exited:
                    if (armed)
                    {
                        StartExec();
                    }
                    break;
                case var state when state.IsLive() || state.IsHalting():
                    // Something else started or stopped the job since the restart was decided (its timer is disarmed too).
                    break;
                default:
                    Impossible();
                    break;
            }
        }
    }
}
