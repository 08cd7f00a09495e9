using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Health;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Processes;
using Shouldly;
using static Pilot.Supervisor.Tests.Jobs.JobMachineFixtures;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Tests.Jobs;

/// <summary>
/// The job state machine as a table: from a memory reached by real inputs, one input gives one state and exactly
/// these effects, in this order. No process, no clock, no bus.
/// </summary>
public sealed class JobMachineTableTests
{
    private static readonly StubRun Run = new(4242);
    private static readonly StubRun CheckGroup = new(4343);
    /// <summary>An exec check: its process group is terminated as the run's is.</summary>
    private static readonly StubProbe Probe = new(CheckGroup);
    /// <summary>An HTTP or TCP check: no process group, cancelled when the job stops.</summary>
    private static readonly StubProbe NetworkProbe = new();
    private static readonly WriteLog KillLine = new(LogLevel.Info, "killing processes for job \"app\"");
    private static readonly Publish StoppingApp = new(new Event(EventCode.Stopping, "app"));
    private static readonly Publish StoppedApp = new(new Event(EventCode.Stopped, "app"));
    private static readonly WriteLog NotPermitted = new(LogLevel.Debug, "job exited but restart not permitted: app");

    private sealed record Row(JobDefinition Job, JobMemory Before, JobInput Input, JobState After, JobEffect[] Effects, TimeSpan Elapsed = default);

    private static JobMemory Running(JobDefinition job) => Drive(job, new Begin(), Bus(job.Config.When.Trigger), new RunStarted(Run));

    private static JobMemory Exited(JobDefinition job) => Drive(job, new Begin(), Bus(job.Config.When.Trigger), new RunStarted(Run), Exit(Run, 0));

    /// <summary>The stop signal to the group and the kill timer armed for its grace (SIGKILL unless it is gone by then).</summary>
    private static JobEffect[] Terminate(IRunningProcess group, TimeSpan grace, bool armsTheKillTimer = true) =>
        [new TerminateGroup(group, SignalNames.SIGTERM), .. armsTheKillTimer ? new JobEffect[] { new ArmTimer(JobTimer.Kill, grace, Periodic: false) } : []];

    /// <summary>A memory halting <paramref name="job"/>: running, then shutdown with nothing to wait for (Terminating).</summary>
    private static JobMemory ShutDown(JobDefinition job, params JobInput[] then) =>
        Drive(job, [new Begin(), Bus(Startup), new RunStarted(Run), Bus(Shutdown), .. then]);

    private static JobEffect[] ExitEffects(int code, bool leftovers = true) =>
    [
        new SetPidVariable(PidVariable, null),
        .. leftovers ? Terminate(Run, GlobalStop) : [],
        .. code == 0
            ? new JobEffect[] { new WriteLog(LogLevel.Debug, "app exited without error"), new Publish(new Event(EventCode.ExitSuccess, "app")) }
            : [
                new WriteLog(LogLevel.Error, $"app exited with error: exit status {code}"),
                new Publish(new Event(EventCode.ExitFailed, "app")),
                new Publish(new Event(EventCode.Error, $"app: exit status {code}")),
            ],
    ];

    private static readonly Dictionary<string, Row> Rows = new()
    {
        // Starting.
        ["Begin_ArmsNothing_WhenNoTimersAreConfigured"] = new(Once, Drive(Once), new Begin(), JobState.Waiting, []),
        ["Begin_ArmsTheInterval_WhenPeriodic"] = new(Periodic, Drive(Periodic), new Begin(), JobState.Waiting,
            [new ArmTimer(JobTimer.Interval, TimeSpan.FromSeconds(5), Periodic: true)]),
        ["Begin_ArmsTheWhenTimeout"] = new(Late, Drive(Late), new Begin(), JobState.Waiting,
            [new ArmTimer(JobTimer.WhenTimeout, TimeSpan.FromSeconds(10), Periodic: false)]),
        ["Trigger_LaunchesTheExec"] = new(Once, Drive(Once, new Begin()), Bus(Startup), JobState.Starting, [new LaunchRun()]),
        ["Startup_IsIgnored_ByAJobWaitingForAnother"] = new(AfterSetup, Drive(AfterSetup, new Begin()), Bus(Startup), JobState.Waiting, []),
        ["OtherJobsExitSuccess_LaunchesTheJobWaitingForIt"] = new(AfterSetup, Drive(AfterSetup, new Begin(), Bus(Startup)),
            Bus(EventCode.ExitSuccess, "setup"), JobState.Starting, [new LaunchRun()]),
        ["Trigger_DisarmsTheWhenTimeout"] = new(Late, Drive(Late, new Begin()), Bus(DbHealthy), JobState.Starting,
            [new DisarmTimer(JobTimer.WhenTimeout), new LaunchRun()]),
        ["Launched_SetsThePidVariable"] = new(Once, Drive(Once, new Begin(), Bus(Startup)), new RunStarted(Run), JobState.Running,
            [new SetPidVariable(PidVariable, 4242)]),
        ["Launched_ArmsTheRunTimeout"] = new(Periodic, Drive(Periodic, new Begin(), Bus(Startup)), new RunStarted(Run), JobState.Running,
            [new SetPidVariable(PidVariable, 4242), new ArmTimer(JobTimer.RunTimeout, TimeSpan.FromSeconds(5), Periodic: false)]),
        ["LaunchFailed_PublishesExitFailedAndError_ThenHalts_WithoutRestarts"] = new(Once, Drive(Once, new Begin(), Bus(Startup)),
            new RunStartFailed("exec: \"app\": executable file not found in $PATH"), JobState.Completed,
            [
                new WriteLog(LogLevel.Error, "unable to start app: exec: \"app\": executable file not found in $PATH"),
                new Publish(new Event(EventCode.ExitFailed, "app")),
                new Publish(new Event(EventCode.Error, "exec: \"app\": executable file not found in $PATH")),
                NotPermitted, StoppingApp, new LeaveBus(), StoppedApp,
            ]),
        ["LaunchFailed_QueuesTheRestart_BehindTheMailbox"] = new(Unlimited, Drive(Unlimited, new Begin(), Bus(Startup)),
            new RunStartFailed("no"), JobState.Exited,
            [
                new WriteLog(LogLevel.Error, "unable to start app: no"),
                new Publish(new Event(EventCode.ExitFailed, "app")),
                new Publish(new Event(EventCode.Error, "no")),
                new Enqueue(new RestartDue()),
            ]),
        ["RestartDue_Launches_WhenExited"] = new(Unlimited, Drive(Unlimited, new Begin(), Bus(Startup), new RunStartFailed("no")),
            new RestartDue(), JobState.Starting, [new LaunchRun()]),

        // A run ends.
        ["RunExited_Halts_WhenNoRestartsAndNoStartsRemain"] = new(Once, Running(Once), Exit(Run, 0), JobState.Completed,
            [.. ExitEffects(0), NotPermitted, StoppingApp, new LeaveBus(), StoppedApp]),
        ["RunExited_Restarts_WhileRestartsRemain"] = new(Restarting, Running(Restarting), Exit(Run, 1), JobState.Starting,
            [.. ExitEffects(1), new LaunchRun()]),
        ["RunExited_WaitsForTheNextTrigger_WhenEach"] = new(Each, Running(Each), Exit(Run, 0), JobState.Exited, ExitEffects(0)),
        ["RunExited_IsIgnoredByTheSchedule_WhenPeriodic"] = new(Periodic, Running(Periodic), Exit(Run, 0), JobState.Exited,
            [new DisarmTimer(JobTimer.RunTimeout), .. ExitEffects(0)]),
        ["OwnExitEventFromTheBus_IsIgnored"] = new(Each, Exited(Each), Bus(EventCode.ExitSuccess, "app"), JobState.Exited, []),

        // Triggers while a run is alive.
        ["Trigger_QueuesOneStart_WhileTheRunIsAlive"] = new(Each, Running(Each), Bus(DbHealthy), JobState.RestartQueued,
            [new WriteLog(LogLevel.Info, "job app: previous run (pid 4242) is still alive, start queued until it exits")]),
        ["Trigger_Coalesces_WhenAStartIsQueued"] = new(Each, Drive(Each, new Begin(), Bus(DbHealthy), new RunStarted(Run), Bus(DbHealthy)),
            Bus(DbHealthy), JobState.RestartQueued, []),
        ["RunExited_RunsTheQueuedStart"] = new(Each, Drive(Each, new Begin(), Bus(DbHealthy), new RunStarted(Run), Bus(DbHealthy)),
            Exit(Run, 0), JobState.Starting, [.. ExitEffects(0), new LaunchRun()]),
        ["Trigger_LaunchesAgain_WhenEachAndExited"] = new(Each, Exited(Each), Bus(DbHealthy), JobState.Starting, [new LaunchRun()]),
        ["Sighup_StartsTheExec_WhenItIsTheTrigger"] = new(OnSighup, Drive(OnSighup, new Begin()), Bus(EventCode.Signal, "SIGHUP"),
            JobState.Starting, [new LaunchRun()]),

        // Timers.
        ["Begin_ArmsTheHeartbeat_OfTheTelemetryJob_RegisteredInConsul"] = new(TelemetryJob(consul: true), Drive(TelemetryJob(consul: true)), new Begin(),
            JobState.Waiting, [new ArmTimer(JobTimer.Heartbeat, TimeSpan.FromSeconds(5), Periodic: true)]),
        ["Begin_ArmsNoHeartbeat_OfTheTelemetryJob_WithoutConsul"] = new(TelemetryJob(consul: false), Drive(TelemetryJob(consul: false)), new Begin(),
            JobState.Waiting, []),
        ["Heartbeat_TellsConsul_ForTheTelemetryJob"] = new(TelemetryJob(consul: true), Drive(TelemetryJob(consul: true), new Begin()),
            new TimerFired(JobTimer.Heartbeat), JobState.Waiting, [new CallService(ServiceCall.Heartbeat)]),
        ["Heartbeat_DoesNothing_BeforeTheFirstStart"] = new(Checked, Drive(Checked, new Begin()), new TimerFired(JobTimer.Heartbeat), JobState.Waiting, []),
        ["Heartbeat_StartsTheCheck_WhenRunning"] = new(Checked, Running(Checked), new TimerFired(JobTimer.Heartbeat), JobState.Running, [new StartCheck()]),
        ["Heartbeat_IsSkipped_WhileTheCheckRuns"] = new(Checked, Running(Checked) with { Probe = Probe }, new TimerFired(JobTimer.Heartbeat), JobState.Running,
            [new WriteLog(LogLevel.Debug, "check.app: previous check still running, tick skipped")]),
        ["Heartbeat_DoesNothing_InMaintenance"] = new(Checked, Drive(Checked, new Begin(), Bus(Startup), new RunStarted(Run),
            Bus(EventCode.EnterMaintenance, Event.GlobalSource)), new TimerFired(JobTimer.Heartbeat), JobState.Running, []),
        ["RunTimeout_KillsTheRunsGroup"] = new(Periodic, Running(Periodic), new TimerFired(JobTimer.RunTimeout), JobState.Running,
            [new WriteLog(LogLevel.Warn, "app timeout after 5s: 'app'"), new SignalRun(Run, SignalNames.SIGKILL)]),
        ["Interval_StartsTheNextRun_WhileRestartsRemain"] = new(Periodic, Exited(Periodic), new TimerFired(JobTimer.Interval), JobState.Starting,
            [new LaunchRun()]),
        ["Interval_IsSkipped_WhileTheRunIsAlive"] = new(Periodic, Running(Periodic), new TimerFired(JobTimer.Interval), JobState.Running,
            [new WriteLog(LogLevel.Warn, "job app: previous run is still alive at the next interval, tick skipped")]),
        ["Interval_Halts_WhenRestartsRanOut"] = new(Periodic, Exited(Periodic) with { RestartsRemain = 0 }, new TimerFired(JobTimer.Interval),
            JobState.Completed,
            [new WriteLog(LogLevel.Debug, "interval expired but restart not permitted: app"), new DisarmTimer(JobTimer.Interval), StoppingApp, new LeaveBus(), StoppedApp]),
        ["WhenTimeout_PublishesTimerExpiredAndHalts_BeforeTheFirstStart"] = new(Late, Drive(Late, new Begin()), new TimerFired(JobTimer.WhenTimeout),
            JobState.Completed,
            [new Publish(new Event(EventCode.TimerExpired, "app")), StoppingApp, new LeaveBus(), StoppedApp]),

        // Health results.
        ["CheckStarted_IsRemembered"] = new(Checked, Running(Checked), new CheckStarted(Probe), JobState.Running, []),
        ["CheckPassed_PublishesHealthyAndHeartbeats"] = new(Service, Running(Service) with { Probe = Probe },
            new CheckFinished(Probe, new HealthCheckResult(HealthCheckOutcome.Passed, "exit status 0")), JobState.Running,
            [
                .. Terminate(CheckGroup, TimeSpan.FromSeconds(3)),
                new WriteLog(LogLevel.Debug, "check.app exited without error"),
                new Publish(new Event(EventCode.ExitSuccess, "check.app")),
                new Publish(new Event(EventCode.StatusHealthy, "app")),
                new CallService(ServiceCall.Heartbeat),
            ]),
        ["CheckFailed_PublishesUnhealthy"] = new(Checked, Running(Checked) with { Probe = Probe },
            new CheckFinished(Probe, new HealthCheckResult(HealthCheckOutcome.Failed, "exit status 1")), JobState.Running,
            [
                .. Terminate(CheckGroup, GlobalStop),
                new WriteLog(LogLevel.Error, "check.app exited with error: exit status 1"),
                new Publish(new Event(EventCode.ExitFailed, "check.app")),
                new Publish(new Event(EventCode.Error, "check.app: exit status 1")),
                new Publish(new Event(EventCode.StatusUnhealthy, "app")),
            ]),
        ["EnterMaintenance_DeregistersTheService"] = new(Service, Running(Service), Bus(EventCode.EnterMaintenance, Event.GlobalSource),
            JobState.Running, [new CallService(ServiceCall.EnterMaintenance)]),

        // Halting.
        ["Shutdown_HaltsAWaitingJob"] = new(Each, Drive(Each, new Begin()), Bus(Shutdown), JobState.Completed, [StoppingApp, new LeaveBus(), StoppedApp]),
        ["Shutdown_LeavesAPreStopJobWaitingForItsTrigger"] = new(PreStop, Drive(PreStop, new Begin()), Bus(Shutdown), JobState.Waiting, []),
        ["Shutdown_TerminatesTheRun_WithTheWholeBudget"] = new(Once, Running(Once), Bus(Shutdown), JobState.Terminating,
            [StoppingApp, .. Terminate(Run, GlobalStop)]),
        ["Shutdown_DropsTheQueuedStart"] = new(Each, Drive(Each, new Begin(), Bus(DbHealthy), new RunStarted(Run), Bus(DbHealthy)), Bus(Shutdown),
            JobState.Terminating, [StoppingApp, .. Terminate(Run, GlobalStop)]),
        ["Shutdown_WaitsForStoppingDependents_WithinTheJobsStopTimeout"] = new(Service, Running(Service), Bus(Shutdown), JobState.Stopping,
            [new DisarmTimer(JobTimer.Heartbeat), StoppingApp, new ArmTimer(JobTimer.StopDeadline, TimeSpan.FromSeconds(3), Periodic: false)]),
        ["DependentStopped_TerminatesWithWhatIsLeftOfTheBudget"] = new(Service, Drive(Service, new Begin(), Bus(Startup), new RunStarted(Run), Bus(Shutdown)),
            Bus(EventCode.Stopped, "pre-stop"), JobState.Terminating,
            [new DisarmTimer(JobTimer.StopDeadline), .. Terminate(Run, TimeSpan.FromSeconds(1))],
            Elapsed: TimeSpan.FromSeconds(2)),
        ["StopDeadline_TerminatesWithTheMinimumGrace"] = new(Service, Drive(Service, new Begin(), Bus(Startup), new RunStarted(Run), Bus(Shutdown)),
            new TimerFired(JobTimer.StopDeadline), JobState.Terminating,
            [
                new WriteLog(LogLevel.Warn, "job app: stopTimeout reached while waiting for pre-stop"),
                .. Terminate(Run, StopTimeouts.MinimumGrace),
            ],
            Elapsed: TimeSpan.FromSeconds(3)),
        ["RunExited_WhileTerminating_PublishesTheExitOnly"] = new(Once, Drive(Once, new Begin(), Bus(Startup), new RunStarted(Run), Bus(Shutdown)),
            new RunExited(Run, new ProcessExit(143, SignalNames.SIGTERM)), JobState.Terminating,
            [
                new SetPidVariable(PidVariable, null),
                new WriteLog(LogLevel.Error, "app exited with error: signal: terminated"),
                new Publish(new Event(EventCode.ExitFailed, "app")),
                new Publish(new Event(EventCode.Error, "app: signal: terminated")),
            ]),
        // Terminating: the stop signal, then SIGKILL from the kill timer (kill time elapsed) unless the group is gone.
        ["GroupGone_BeforeTheGrace_CompletesWithoutSigkill"] = new(Once, ShutDown(Once, Exit(Run, 143)), new GroupGone(Run), JobState.Completed,
            [new DisarmTimer(JobTimer.Kill), new LeaveBus(), StoppedApp]),
        ["RunExited_AfterItsGroupIsGone_Completes"] = new(Once, ShutDown(Once, new GroupGone(Run)), Exit(Run, 0), JobState.Completed,
            [
                new SetPidVariable(PidVariable, null),
                new WriteLog(LogLevel.Debug, "app exited without error"),
                new Publish(new Event(EventCode.ExitSuccess, "app")),
                new LeaveBus(), StoppedApp,
            ]),
        ["KillTimeElapsed_SigkillsTheGroup_AndLogsTheKillLineOnce"] = new(Once, ShutDown(Once), new TimerFired(JobTimer.Kill), JobState.Terminating,
            [KillLine, new KillGroup(Run)], Elapsed: GlobalStop),
        ["KillTimeElapsed_SigkillsAGroupWhoseLeaderExited"] = new(Once, ShutDown(Once, Exit(Run, 143)), new TimerFired(JobTimer.Kill),
            JobState.Terminating, [KillLine, new KillGroup(Run)], Elapsed: GlobalStop),
        ["RunExited_AfterSigkill_WaitsForTheGroup"] = new(Once, ShutDown(Once, new TimerFired(JobTimer.Kill)),
            new RunExited(Run, new ProcessExit(137, SignalNames.SIGKILL)), JobState.Terminating,
            [
                new SetPidVariable(PidVariable, null),
                new WriteLog(LogLevel.Error, "app exited with error: signal: killed"),
                new Publish(new Event(EventCode.ExitFailed, "app")),
                new Publish(new Event(EventCode.Error, "app: signal: killed")),
            ]),
        ["GroupGone_AfterSigkill_Completes"] = new(Once, ShutDown(Once, new TimerFired(JobTimer.Kill), Exit(Run, 137)), new GroupGone(Run),
            JobState.Completed, [new LeaveBus(), StoppedApp]),
        ["KillTimeElapsed_CannotHappen_WhenNoKillIsDue"] = new(Once, ShutDown(Once, new TimerFired(JobTimer.Kill)), new TimerFired(JobTimer.Kill),
            JobState.Terminating, [new ReportInternalError("job app: TimerFired Kill cannot happen in state Terminating")]),
        ["Shutdown_TerminatesTheRunAndTheRunningCheck_WithOneKillTime"] = new(Checked, Running(Checked) with { Probe = Probe }, Bus(Shutdown),
            JobState.Terminating, [new DisarmTimer(JobTimer.Heartbeat), StoppingApp, .. Terminate(Run, GlobalStop), .. Terminate(CheckGroup, GlobalStop, armsTheKillTimer: false)]),
        ["KillTimeElapsed_SigkillsTheRunAndTheCheck_WithOneLine"] = new(Checked, Drive(Checked, new Begin(), Bus(Startup), new RunStarted(Run),
            new CheckStarted(Probe), Bus(Shutdown)), new TimerFired(JobTimer.Kill), JobState.Terminating,
            [KillLine, new KillGroup(Run), new KillGroup(CheckGroup)], Elapsed: GlobalStop),
        ["CheckFinished_WhileTerminating_WaitsForItsGroup"] = new(Checked, Drive(Checked, new Begin(), Bus(Startup), new RunStarted(Run),
            new CheckStarted(Probe), Bus(Shutdown), Exit(Run, 143), new GroupGone(Run)),
            new CheckFinished(Probe, new HealthCheckResult(HealthCheckOutcome.Failed, "signal: terminated")), JobState.Terminating,
            [
                new WriteLog(LogLevel.Error, "check.app exited with error: signal: terminated"),
                new Publish(new Event(EventCode.ExitFailed, "check.app")),
                new Publish(new Event(EventCode.Error, "check.app: signal: terminated")),
            ]),
        ["GroupGone_OfTheCheck_Completes_OnceTheRunAndTheCheckAreGone"] = new(Checked, Drive(Checked, new Begin(), Bus(Startup), new RunStarted(Run),
            new CheckStarted(Probe), Bus(Shutdown), Exit(Run, 143), new GroupGone(Run),
            new CheckFinished(Probe, new HealthCheckResult(HealthCheckOutcome.Failed, "signal: terminated"))),
            new GroupGone(CheckGroup), JobState.Completed, [new DisarmTimer(JobTimer.Kill), new LeaveBus(), StoppedApp]),
        ["Shutdown_CancelsANetworkCheck"] = new(Checked, Running(Checked) with { Probe = NetworkProbe }, Bus(Shutdown), JobState.Terminating,
            [new DisarmTimer(JobTimer.Heartbeat), StoppingApp, .. Terminate(Run, GlobalStop), new CancelCheck(NetworkProbe)]),
        ["GroupGone_Deregisters_AService"] = new(Service,
            Drive(Service, new Begin(), Bus(Startup), new RunStarted(Run), Bus(Shutdown), new TimerFired(JobTimer.StopDeadline), Exit(Run, 0)),
            new GroupGone(Run), JobState.Deregistering, [new DisarmTimer(JobTimer.Kill), new Deregister()]),
        ["Deregistered_Completes"] = new(Service,
            Drive(Service, new Begin(), Bus(Startup), new RunStarted(Run), Bus(Shutdown), new TimerFired(JobTimer.StopDeadline), Exit(Run, 0),
                new GroupGone(Run)),
            new Deregistered(), JobState.Completed, [new LeaveBus(), StoppedApp]),
        ["Retire_HaltsAPreStopJob_ThatShutdownWouldLeave"] = new(PreStop, Drive(PreStop, new Begin()), new Command(JobCommand.Retire), JobState.Completed,
            [new Publish(new Event(EventCode.Stopping, "pre-stop")), new LeaveBus(), new Publish(new Event(EventCode.Stopped, "pre-stop"))]),

        // Commands.
        ["Stop_TerminatesTheRun_AndHolds"] = new(Unlimited, Running(Unlimited), new Command(JobCommand.Stop), JobState.Holding,
            [StoppingApp, .. Terminate(Run, GlobalStop)]),
        ["KillTimeElapsed_SigkillsTheRunAnOperatorStops"] = new(Unlimited,
            Drive(Unlimited, new Begin(), Bus(Startup), new RunStarted(Run), new Command(JobCommand.Stop)), new TimerFired(JobTimer.Kill),
            JobState.Holding, [KillLine, new KillGroup(Run)], Elapsed: GlobalStop),
        ["GroupGone_AfterTheOperatorStop_DisarmsTheKillTimer"] = new(Unlimited,
            Drive(Unlimited, new Begin(), Bus(Startup), new RunStarted(Run), new Command(JobCommand.Stop), Exit(Run, 143)), new GroupGone(Run),
            JobState.Stopped, [new DisarmTimer(JobTimer.Kill)]),
        ["RunExited_WhileHolding_DoesNotRestart"] = new(Unlimited, Drive(Unlimited, new Begin(), Bus(Startup), new RunStarted(Run), new Command(JobCommand.Stop)),
            Exit(Run, 0), JobState.Stopped, [.. ExitEffects(0, leftovers: false), StoppedApp]),
        ["Trigger_IsIgnored_WhileHeld"] = new(Each, Drive(Each, new Begin(), new Command(JobCommand.Stop)), Bus(DbHealthy), JobState.Stopped, []),
        ["Start_LaunchesAHeldJob"] = new(Each, Drive(Each, new Begin(), new Command(JobCommand.Stop)), new Command(JobCommand.Start), JobState.Starting,
            [new Publish(new Event(EventCode.Startup, "app")), new LaunchRun()]),
        ["Start_LeavesARunningJobAlone"] = new(Each, Running(Each), new Command(JobCommand.Start), JobState.Running, []),
        ["Restart_TerminatesTheRun_AndStartsOnceStopped"] = new(Unlimited, Running(Unlimited), new Command(JobCommand.Restart), JobState.Holding,
            [StoppingApp, .. Terminate(Run, GlobalStop)]),
        ["RunExited_WhileRestarting_PublishesStoppedAndStartup_ThenLaunches"] = new(Unlimited,
            Drive(Unlimited, new Begin(), Bus(Startup), new RunStarted(Run), new Command(JobCommand.Restart)),
            Exit(Run, 0), JobState.Starting, [.. ExitEffects(0, leftovers: false), StoppedApp, new Publish(new Event(EventCode.Startup, "app")), new LaunchRun()]),
        ["Shutdown_HaltsAHeldJob"] = new(Each, Drive(Each, new Begin(), new Command(JobCommand.Stop)), Bus(Shutdown), JobState.Completed,
            [StoppingApp, new LeaveBus(), StoppedApp]),
        ["Kill_SigkillsTheRun"] = new(Once, Running(Once), new Command(JobCommand.Kill), JobState.Running,
            [new WriteLog(LogLevel.Info, "killing processes for job \"app\""), new SignalRun(Run, SignalNames.SIGKILL)]),
        ["Kill_SigkillsTheGroupsBeingTerminated_WithOneLine"] = new(Checked, Drive(Checked, new Begin(), Bus(Startup), new RunStarted(Run),
            new CheckStarted(Probe), Bus(Shutdown)), new Command(JobCommand.Kill), JobState.Terminating,
            [KillLine, new KillGroup(Run), new KillGroup(CheckGroup), new DisarmTimer(JobTimer.Kill)]),
        ["ForwardedSignal_GoesToTheRunAndTheCheck"] = new(Checked, Running(Checked) with { Probe = Probe }, new ForwardSignal(SignalNames.SIGUSR1),
            JobState.Running, [new SignalRun(Run, SignalNames.SIGUSR1), new SignalCheck(Probe, SignalNames.SIGUSR1)]),

        // Exit policy (onSuccess / onFailure).
        ["RunExited_AsksForShutdown_AndDoesNotRestart_WhenOnFailureIsShutdown"] = new(ShutdownOnFailure, Running(ShutdownOnFailure), Exit(Run, 3),
            JobState.Exited,
            [
                .. ExitEffects(3),
                new WriteLog(LogLevel.Info, "job app: onFailure is \"shutdown\": shutting Pilot down with exit code 3"),
                new RequestShutdown(3),
            ]),
        ["RunExited_Restarts_WhenOnlyOnSuccessIsShutdown"] = new(ShutdownOnSuccess with { Config = ShutdownOnSuccess.Config with { Restarts = 1 } },
            Running(ShutdownOnSuccess with { Config = ShutdownOnSuccess.Config with { Restarts = 1 } }), Exit(Run, 1), JobState.Starting,
            [.. ExitEffects(1), new LaunchRun()]),
        ["RunExited_AsksForShutdownWithCodeZero_WhenOnSuccessIsShutdown"] = new(ShutdownOnSuccess, Running(ShutdownOnSuccess), Exit(Run, 0),
            JobState.Completed,
            [
                .. ExitEffects(0),
                new WriteLog(LogLevel.Info, "job app: onSuccess is \"shutdown\": shutting Pilot down with exit code 0"),
                new RequestShutdown(0),
                NotPermitted, StoppingApp, new LeaveBus(), StoppedApp,
            ]),
        ["LaunchFailed_AsksForShutdownWithCode127_WhenOnFailureIsShutdown"] = new(ShutdownOnFailure, Drive(ShutdownOnFailure, new Begin(), Bus(Startup)),
            new RunStartFailed("no"), JobState.Exited,
            [
                new WriteLog(LogLevel.Error, "unable to start app: no"),
                new Publish(new Event(EventCode.ExitFailed, "app")),
                new Publish(new Event(EventCode.Error, "no")),
                new WriteLog(LogLevel.Info, "job app: onFailure is \"shutdown\": shutting Pilot down with exit code 127"),
                new RequestShutdown(127),
            ]),
        ["RunExited_WhileTerminating_IgnoresTheExitPolicy"] = new(ShutdownOnFailure,
            Drive(ShutdownOnFailure, new Begin(), Bus(Startup), new RunStarted(Run), Bus(Shutdown)),
            new RunExited(Run, new ProcessExit(143, SignalNames.SIGTERM)), JobState.Terminating,
            [
                new SetPidVariable(PidVariable, null),
                new WriteLog(LogLevel.Error, "app exited with error: signal: terminated"),
                new Publish(new Event(EventCode.ExitFailed, "app")),
                new Publish(new Event(EventCode.Error, "app: signal: terminated")),
            ]),

        // Restart backoff.
        ["RunExited_ArmsTheBackoff_InsteadOfRestarting"] = new(BackingOff, Running(BackingOff), Exit(Run, 1), JobState.Exited,
            [
                .. ExitEffects(1),
                new WriteLog(LogLevel.Info, "job app: restarting in 1s"),
                new ArmTimer(JobTimer.RestartBackoff, TimeSpan.FromSeconds(1), Periodic: false),
            ]),
        ["RunExited_DoublesTheBackoff_AfterAShortRun"] = new(BackingOff, Running(BackingOff) with { BackoffBase = TimeSpan.FromSeconds(2) },
            Exit(Run, 1), JobState.Exited,
            [
                .. ExitEffects(1),
                new WriteLog(LogLevel.Info, "job app: restarting in 4s"),
                new ArmTimer(JobTimer.RestartBackoff, TimeSpan.FromSeconds(4), Periodic: false),
            ]),
        ["RunExited_ResetsTheBackoff_AfterALongRun"] = new(BackingOff, Running(BackingOff) with { BackoffBase = TimeSpan.FromSeconds(8) },
            Exit(Run, 1), JobState.Exited,
            [
                .. ExitEffects(1),
                new WriteLog(LogLevel.Info, "job app: restarting in 1s"),
                new ArmTimer(JobTimer.RestartBackoff, TimeSpan.FromSeconds(1), Periodic: false),
            ],
            Elapsed: TimeSpan.FromSeconds(10)),
        ["LaunchFailed_ArmsTheBackoff_InsteadOfQueueingTheRestart"] = new(BackingOff, Drive(BackingOff, new Begin(), Bus(Startup)),
            new RunStartFailed("no"), JobState.Exited,
            [
                new WriteLog(LogLevel.Error, "unable to start app: no"),
                new Publish(new Event(EventCode.ExitFailed, "app")),
                new Publish(new Event(EventCode.Error, "no")),
                new WriteLog(LogLevel.Info, "job app: restarting in 1s"),
                new ArmTimer(JobTimer.RestartBackoff, TimeSpan.FromSeconds(1), Periodic: false),
            ]),
        ["BackoffEnds_Launches"] = new(BackingOff, Drive(BackingOff, new Begin(), Bus(Startup), new RunStarted(Run), Exit(Run, 1)),
            new TimerFired(JobTimer.RestartBackoff), JobState.Starting, [new LaunchRun()]),
        ["Shutdown_DisarmsTheBackoff"] = new(BackingOff, Drive(BackingOff, new Begin(), Bus(Startup), new RunStarted(Run), Exit(Run, 1)),
            Bus(Shutdown), JobState.Completed, [new DisarmTimer(JobTimer.RestartBackoff), StoppingApp, new LeaveBus(), StoppedApp]),
        ["Stop_DisarmsTheBackoff"] = new(BackingOff, Drive(BackingOff, new Begin(), Bus(Startup), new RunStarted(Run), Exit(Run, 1)),
            new Command(JobCommand.Stop), JobState.Stopped, [StoppingApp, new DisarmTimer(JobTimer.RestartBackoff), StoppedApp]),

        // Ordered shutdown (shutdownOrder: "dependencies").
        ["Shutdown_WaitsForTheJobsThatDependOnIt_WhenOrdered"] = new(Depended, Running(Depended), Bus(Shutdown), JobState.Stopping,
            [StoppingApp, new ArmTimer(JobTimer.StopDeadline, GlobalStop, Periodic: false)]),
        ["DependentStopped_TerminatesTheJobItHeld"] = new(Depended, Drive(Depended, new Begin(), Bus(Startup), new RunStarted(Run), Bus(Shutdown)),
            Bus(EventCode.Stopped, "web"), JobState.Terminating,
            [new DisarmTimer(JobTimer.StopDeadline), .. Terminate(Run, GlobalStop)]),
        ["Shutdown_DoesNotWaitForADependentThatHasStopped"] = new(Depended, Drive(Depended, new Begin(), Bus(Startup), new RunStarted(Run),
            Bus(EventCode.Stopped, "web")), Bus(Shutdown), JobState.Terminating, [StoppingApp, .. Terminate(Run, GlobalStop)]),
        ["Shutdown_WaitsForADependentThatStartedAgain"] = new(Depended, Drive(Depended, new Begin(), Bus(Startup), new RunStarted(Run),
            Bus(EventCode.Stopped, "web"), Bus(EventCode.Startup, "web")), Bus(Shutdown), JobState.Stopping,
            [StoppingApp, new ArmTimer(JobTimer.StopDeadline, GlobalStop, Periodic: false)]),
        ["Retire_DoesNotWaitForDependents_WhenOrdered"] = new(Depended, Running(Depended), new Command(JobCommand.Retire), JobState.Terminating,
            [StoppingApp, .. Terminate(Run, GlobalStop)]),

        // A job without exec is active once started.
        ["Trigger_MakesAJobWithoutExecRun"] = new(NoExec, Drive(NoExec, new Begin()), Bus(Startup), JobState.Running, []),

        // Inputs that cannot happen are reported, naming the input and the state, and change nothing.
        ["RunExited_CannotHappen_WhileWaiting"] = new(Once, Drive(Once, new Begin()), Exit(Run, 0), JobState.Waiting,
            [new ReportInternalError("job app: RunExited cannot happen in state Waiting")]),
        ["BusEvent_CannotHappen_BeforeBegin"] = new(Once, Drive(Once), Bus(Startup), JobState.Idle,
            [new ReportInternalError("job app: BusEvent {Startup global} cannot happen in state Idle")]),
        ["Begin_CannotHappen_Twice"] = new(Once, Running(Once), new Begin(), JobState.Running,
            [new ReportInternalError("job app: Begin cannot happen in state Running")]),
        ["GroupGone_CannotHappen_ForAGroupNotBeingTerminated"] = new(Each, Exited(Each), new GroupGone(new StubRun(999)), JobState.Exited,
            [new ReportInternalError("job app: GroupGone 999 cannot happen in state Exited")]),
    };

    public static TheoryData<string> RowNames => [.. Rows.Keys];

    [Theory]
    [MemberData(nameof(RowNames))]
    public void JobMachine_FollowsTheTable(string row)
    {
        var (job, before, input, after, effects, elapsed) = Rows[row];

        var step = JobMachine.Handle(job, before, input, At(elapsed));

        step.Memory.State.ShouldBe(after);
        step.Effects.ShouldBe(effects);
        if (effects.OfType<ReportInternalError>().Any())
        {
            step.Memory.ShouldBe(before);
        }
    }

    [Fact]
    public void JobMachine_ShowsTheBackoffDelayAndDueTime_UntilTheRestart()
    {
        var exited = JobMachine.Handle(BackingOff, Running(BackingOff), Exit(Run, 1), At()).Memory;
        var snapshot = exited.ToSnapshot(BackingOff, 1);
        snapshot.RestartDelay.ShouldBe(TimeSpan.FromSeconds(1));
        snapshot.NextRestart.ShouldBe(T0 + TimeSpan.FromSeconds(1));

        var restarted = JobMachine.Handle(BackingOff, exited, new TimerFired(JobTimer.RestartBackoff), At(TimeSpan.FromSeconds(1))).Memory;
        restarted.ToSnapshot(BackingOff, 2).NextRestart.ShouldBeNull();
        restarted.ToSnapshot(BackingOff, 2).RestartDelay.ShouldBe(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void JobMachine_CountsRestarts_AndClearsTheTriggerOnTheLastStart()
    {
        var started = Drive(Restarting, new Begin(), Bus(Startup));
        started.StartsRemain.ShouldBe(0);
        started.Trigger.ShouldBe(default);

        var restarted = Drive(Restarting, new Begin(), Bus(Startup), new RunStarted(Run), Exit(Run, 1));
        restarted.RestartsRemain.ShouldBe(1);
        restarted.Restarts.ShouldBe(1);
    }

    [Fact]
    public void JobMachine_KeepsThePreStopJobForOneStart_AfterShutdown()
    {
        var each = JobDefinition.Of(PreStop.Config with { When = PreStop.Config.When with { StartsLimit = -1 } });

        var memory = Drive(each, new Begin(), Bus(Shutdown));

        memory.State.ShouldBe(JobState.Waiting);
        memory.StartsRemain.ShouldBe(1);
        memory.RestartsRemain.ShouldBe(0);
    }
}
