using Pilot.Supervisor.Processes;
using static Pilot.Supervisor.Control.JobState;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>Commands (stop, start, restart, retire, kill) and forwarded signals.</summary>
public static partial class JobMachine
{
    private sealed partial class Transition
    {
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
