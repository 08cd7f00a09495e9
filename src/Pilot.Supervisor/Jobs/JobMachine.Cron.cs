using Pilot.Supervisor.Config;
using Pilot.Supervisor.Config.Validation;

namespace Pilot.Supervisor.Jobs;

/// <summary>
/// <c>when.cron</c> (Pilot extension): the interval timer is armed once per scheduled run instead of periodically; a
/// tick then means what an interval tick means (start, or skip while the last run is alive, using one restart).
/// </summary>
public static partial class JobMachine
{
    /// <summary>The next run of <paramref name="cron"/> strictly after <paramref name="now"/>: the pure rule the timer follows.</summary>
    public static DateTimeOffset? NextCronRun(CronSchedule cron, DateTimeOffset now) => cron.NextAfter(now);

    private sealed partial class Transition
    {
        /// <summary>Arms the timer for the next run after now (runs missed while Pilot was late are skipped, as cron does).</summary>
        private void ScheduleNextCronRun(CronSchedule cron)
        {
            var next = NextCronRun(cron, Now);
            _m = _m with { NextCronRun = next };
            if (next is { } at)
            {
                ArmCronTimer(at);
            }
        }

        /// <summary>A wait longer than a timer can hold (≈ 49.7 days) is taken in steps.</summary>
        private void ArmCronTimer(DateTimeOffset at)
        {
            var due = at - Now;
            due = due < TimeSpan.Zero ? TimeSpan.Zero : due > V3Rules.LongestTimer ? V3Rules.LongestTimer : due;
            Emit(new ArmTimer(JobTimer.Interval, due, Periodic: false));
        }

        /// <summary>On a tick: false when the scheduled time is still ahead (a step of a long wait; the timer is armed again).</summary>
        private bool IsCronRunDue(CronSchedule cron)
        {
            if (_m.NextCronRun is { } scheduled && Now < scheduled)
            {
                ArmCronTimer(scheduled);
                return false;
            }
            ScheduleNextCronRun(cron);
            return true;
        }
    }
}
