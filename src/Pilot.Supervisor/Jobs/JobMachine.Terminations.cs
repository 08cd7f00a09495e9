using Pilot.Supervisor.Health;
using Pilot.Supervisor.Processes;
using static Pilot.Supervisor.Control.JobState;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>
/// Terminating process groups, as Pebble's servstate does (terminating → kill-time-elapsed → killing): the stop signal
/// goes out with a kill time; the kill timer, armed for the earliest kill time, SIGKILLs what is still there and logs
/// it once; a group's end (<see cref="GroupGone"/>) takes it off the list. One path for a halt, an operator's stop or
/// restart, and the leftovers of a run or check that ended; the loop only signals and watches.
/// </summary>
public static partial class JobMachine
{
    private sealed partial class Transition
    {
        /// <summary>The stop signal to <paramref name="group"/> now, SIGKILL after <paramref name="grace"/> unless it is gone by then.</summary>
        private void TerminateGroup(IRunningProcess group, int signal, TimeSpan grace, bool forHalt)
        {
            var killAt = Now + grace;
            var index = _m.Terminations.FindIndex(t => ReferenceEquals(t.Group, group));
            if (index < 0)
            {
                _m = _m with { Terminations = _m.Terminations.Add(new GroupTermination(group, killAt, Killed: false, forHalt)) };
            }
            else
            {
                // Already under way (a halt during an operator's stop): the earlier kill time stands, as two stops would.
                var under = _m.Terminations[index];
                _m = _m with
                {
                    Terminations = _m.Terminations.SetItem(index,
                        under with { KillAt = under.KillAt < killAt ? under.KillAt : killAt, ForHalt = under.ForHalt || forHalt }),
                };
            }
            Emit(new TerminateGroup(group, signal));
            ArmKillTimer();
        }

        /// <summary>A check that is running or has left processes: its group as a run's (with SIGTERM), or a probe without one cancelled.</summary>
        private void TerminateCheck(IHealthProbe probe, TimeSpan grace, bool forHalt)
        {
            if (probe.Group is { } group)
            {
                TerminateGroup(group, SignalNames.SIGTERM, grace, forHalt);
            }
            else if (forHalt)
            {
                Emit(new CancelCheck(probe));
            }
        }

        /// <summary>The run's group has had its stop signal from this halt or operator stop (it may be gone already).</summary>
        private bool RunTerminationStarted => _m.State == Terminating || (_m.State == Holding && _m.AwaitedDependents.IsEmpty);

        private bool IsTerminating(IRunningProcess group) => _m.Terminations.Exists(t => ReferenceEquals(t.Group, group));

        /// <summary>Arms the kill timer for the earliest kill time still ahead, or disarms it when none is left.</summary>
        private void ArmKillTimer()
        {
            DateTimeOffset? next = null;
            foreach (var termination in _m.Terminations)
            {
                if (!termination.Killed && (next is null || termination.KillAt < next))
                {
                    next = termination.KillAt;
                }
            }
            if (next == _m.KillDue)
            {
                return;
            }
            _m = _m with { KillDue = next };
            if (next is { } at)
            {
                Emit(new ArmTimer(JobTimer.Kill, at > Now ? at - Now : TimeSpan.Zero, Periodic: false));
            }
            else
            {
                Emit(new DisarmTimer(JobTimer.Kill));
            }
        }

        /// <summary>Kill time elapsed: SIGKILL to every group whose grace is over (one log line for them), then the timer for the next.</summary>
        private void OnKillTimeElapsed()
        {
            if (_m.KillDue is not { } due)
            {
                Impossible();
                return;
            }
            _m = _m with { KillDue = null };
            KillGroups(t => t.KillAt <= due);
            ArmKillTimer();
        }

        /// <summary>SIGKILL to the groups under termination that <paramref name="which"/> picks and that have not had it; true if there were any.</summary>
        private bool KillGroups(Predicate<GroupTermination> which, bool logged = false)
        {
            var killed = false;
            var terminations = _m.Terminations;
            for (var i = 0; i < terminations.Count; i++)
            {
                if (terminations[i] is { Killed: false } termination && which(termination))
                {
                    if (!logged)
                    {
                        LogKilling();
                        logged = true;
                    }
                    Emit(new KillGroup(termination.Group));
                    terminations = terminations.SetItem(i, termination with { Killed = true });
                    killed = true;
                }
            }
            _m = _m with { Terminations = terminations };
            return killed;
        }

        private void LogKilling() => Emit(new WriteLog(LogLevel.Info, $"killing processes for job \"{Name}\""));

        private void OnGroupGone(IRunningProcess group)
        {
            var index = _m.Terminations.FindIndex(t => ReferenceEquals(t.Group, group));
            if (index < 0 || _m.State == Idle)
            {
                Impossible();
                return;
            }
            _m = _m with { Terminations = _m.Terminations.RemoveAt(index) };
            ArmKillTimer();
            FinishTerminating();
        }

        /// <summary>Terminating: once the run and the check have ended and the groups of the halt are gone, the halt goes on.</summary>
        private void FinishTerminating()
        {
            if (_m.State == Terminating && _m.Run is null && _m.Probe is null && !_m.Terminations.Exists(t => t.ForHalt))
            {
                AfterTermination();
            }
        }
    }
}
