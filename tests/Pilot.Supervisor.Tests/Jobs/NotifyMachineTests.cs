using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Health;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Notify;
using Shouldly;
using static Pilot.Supervisor.Tests.Jobs.JobMachineFixtures;

namespace Pilot.Supervisor.Tests.Jobs;

/// <summary>
/// <c>health.notify</c> in the pure job machine: READY=1 from the run makes it healthy as a passing check does,
/// a stranger's word is counted and ignored, the watchdog, a check that waits for READY=1, and a new run that starts
/// over. No socket, no clock.
/// </summary>
public sealed class NotifyMachineTests
{
    private static readonly StubRun Run = new(4242);
    private static readonly Publish Healthy = new(new Event(EventCode.StatusHealthy, "app"));
    private static readonly Publish Unhealthy = new(new Event(EventCode.StatusUnhealthy, "app"));

    private static JobConfig App => new() { Name = "app", Exec = new CommandSpec("app", []), Restarts = JobConfig.UnlimitedRestarts };

    private static JobDefinition Notified(int ttl = 0, int interval = 0) =>
        JobDefinition.Of(App with { Health = new HealthConfig { Notify = true, TtlSeconds = ttl, Interval = TimeSpan.FromSeconds(interval) } });

    private static readonly JobDefinition NotifiedService = new(
        App with { Port = 80, Health = new HealthConfig { Notify = true, TtlSeconds = 5, Interval = TimeSpan.FromSeconds(1) } },
        [], HasService: true, HasCheck: false);

    private static readonly JobDefinition NotifiedAndChecked = new(
        App with { Health = new HealthConfig { Notify = true, Exec = new CommandSpec("check", []), Interval = TimeSpan.FromSeconds(1), TtlSeconds = 5 } },
        [], HasService: false, HasCheck: true);

    private static NotifyReceived Say(string text, int pid = 4242, int? group = 4242, params int[] parents) =>
        new(NotifyMessage.Parse(System.Text.Encoding.UTF8.GetBytes(text)).Message!, new NotifySender(pid, 0, group, [.. parents]));

    private static JobMemory Running(JobDefinition job) => Drive(job, new Begin(), Bus(Startup), new RunStarted(Run));

    private static JobStep Handle(JobDefinition job, JobMemory memory, JobInput input) => JobMachine.Handle(job, memory, input, At());

    [Fact]
    public void Ready_FromTheRun_MakesTheJobHealthy_WithTheEventsAndHeartbeatOfAPassingCheck()
    {
        var step = Handle(NotifiedService, Running(NotifiedService), Say("READY=1\nSTATUS=serving"));

        step.Memory.Health.ShouldBe(HealthStatus.Healthy);
        step.Memory.Notify!.Ready.ShouldBeTrue();
        step.Memory.Notify.Status.ShouldBe("serving");
        step.Memory.Notify.Accepted.ShouldBe(1);
        step.Effects.OfType<Publish>().ShouldBe([Healthy]);
        step.Effects.OfType<CallService>().ShouldBe([new CallService(ServiceCall.Heartbeat)]);
    }

    [Fact]
    public void Ready_Again_ChangesNothing()
    {
        var ready = Handle(Notified(), Running(Notified()), Say("READY=1")).Memory;

        var step = Handle(Notified(), ready, Say("READY=1"));

        step.Effects.OfType<Publish>().ShouldBeEmpty();
        step.Memory.Notify!.Accepted.ShouldBe(2);
    }

    [Theory]
    [InlineData(4242, null, new int[0], true)]     // the run itself
    [InlineData(5001, 4242, new int[0], true)]     // a member of its process group
    [InlineData(5002, 5002, new[] { 5001, 4242 }, true)] // a descendant in a session of its own (setsid)
    [InlineData(5003, 5003, new[] { 77 }, false)]  // a stranger
    [InlineData(5004, null, new int[0], false)]    // gone before it could be read
    public void Datagram_CountsOnlyFromTheRunsProcesses(int pid, int? group, int[] parents, bool counts)
    {
        var step = Handle(Notified(), Running(Notified()), Say("READY=1", pid, group, parents));

        step.Memory.Notify!.Ready.ShouldBe(counts);
        step.Memory.Health.ShouldBe(counts ? HealthStatus.Healthy : HealthStatus.Unknown);
        step.Memory.Notify.Foreign.ShouldBe(counts ? 0 : 1);
    }

    [Fact]
    public void Datagram_WithNoRunAlive_IsForeign()
    {
        var waiting = Drive(Notified(), new Begin());

        var step = Handle(Notified(), waiting, Say("READY=1"));

        step.Memory.Notify!.Foreign.ShouldBe(1);
        step.Memory.Health.ShouldBe(HealthStatus.Unknown);
    }

    [Theory]
    [InlineData(NotifyIgnoredReason.Oversized, 1, 0)]
    [InlineData(NotifyIgnoredReason.Malformed, 0, 1)]
    [InlineData(NotifyIgnoredReason.NoCredentials, 0, 1)]
    public void IgnoredDatagram_IsCounted_AndNothingElseChanges(NotifyIgnoredReason reason, long oversized, long malformed)
    {
        var running = Running(Notified());

        var step = Handle(Notified(), running, new NotifyIgnored(reason, "why"));

        step.Memory.Notify!.Oversized.ShouldBe(oversized);
        step.Memory.Notify.Malformed.ShouldBe(malformed);
        (step.Memory with { Notify = running.Notify }).ShouldBe(running);
        step.Effects.ShouldAllBe(e => e is WriteLog);
    }

    [Fact]
    public void Watchdog_ArmsTheTtl_AndAMissedOneMakesTheJobUnhealthy_UntilTheNext()
    {
        var job = Notified(ttl: 2);
        var ready = Handle(job, Running(job), Say("READY=1")).Memory;

        var beat = Handle(job, ready, Say("WATCHDOG=1"));
        beat.Effects.ShouldContain(new ArmTimer(JobTimer.Watchdog, TimeSpan.FromSeconds(2), Periodic: false));

        var missed = Handle(job, beat.Memory, new TimerFired(JobTimer.Watchdog));
        missed.Memory.Health.ShouldBe(HealthStatus.Unhealthy);
        missed.Memory.Notify!.WatchdogMissed.ShouldBeTrue();
        missed.Effects.OfType<Publish>().ShouldBe([Unhealthy]);

        var again = Handle(job, missed.Memory, Say("WATCHDOG=1"));
        again.Memory.Health.ShouldBe(HealthStatus.Healthy);
        again.Memory.Notify!.WatchdogMissed.ShouldBeFalse();
        again.Effects.OfType<Publish>().ShouldBe([Healthy]);
    }

    [Fact]
    public void WatchdogTimer_BeforeAnyWatchdog_ChangesNothing()
    {
        var ready = Handle(Notified(ttl: 2), Running(Notified(ttl: 2)), Say("READY=1")).Memory;

        var step = Handle(Notified(ttl: 2), ready, new TimerFired(JobTimer.Watchdog));

        step.Memory.ShouldBe(ready);
        step.Effects.ShouldBeEmpty();
    }

    [Fact]
    public void Heartbeat_WhileReady_PublishesHealthyAndBeats_AsAPassingCheck_AndNothingBefore()
    {
        var running = Running(NotifiedService);

        Handle(NotifiedService, running, new TimerFired(JobTimer.Heartbeat)).Effects.ShouldBeEmpty();
        var ready = Handle(NotifiedService, running, Say("READY=1")).Memory;
        Handle(NotifiedService, ready, new TimerFired(JobTimer.Heartbeat)).Effects
            .ShouldBe([Healthy, new CallService(ServiceCall.Heartbeat)]);
    }

    [Fact]
    public void Begin_ArmsTheHeartbeat_ForANotifyJobWithAnInterval_AndNotWithout()
    {
        Handle(Notified(interval: 3), JobMemory.Initial(Notified(interval: 3)), new Begin()).Effects
            .ShouldBe([new ArmTimer(JobTimer.Heartbeat, TimeSpan.FromSeconds(3), Periodic: true)]);
        Handle(Notified(), JobMemory.Initial(Notified()), new Begin()).Effects.ShouldBeEmpty();
    }

    [Fact]
    public void WithACheck_TicksSkipTheCheck_UntilReady_ThenReadyRunsTheFirstOne()
    {
        var running = Running(NotifiedAndChecked);

        Handle(NotifiedAndChecked, running, new TimerFired(JobTimer.Heartbeat)).Effects.ShouldNotContain(e => e is StartCheck);
        var ready = Handle(NotifiedAndChecked, running, Say("READY=1"));

        ready.Effects.ShouldContain(new StartCheck());
        ready.Memory.Health.ShouldBe(HealthStatus.Unknown, "the check decides");
        var probe = new StubProbe();
        var started = Handle(NotifiedAndChecked, ready.Memory, new CheckStarted(probe)).Memory;
        var passed = Handle(NotifiedAndChecked, started, new CheckFinished(probe, new HealthCheckResult(HealthCheckOutcome.Passed, "exit status 0")));
        passed.Memory.Health.ShouldBe(HealthStatus.Healthy);
    }

    [Fact]
    public void RunExit_AfterReady_MakesTheJobUnhealthy_AndTheNextRunStartsOver()
    {
        var job = Notified(ttl: 2);
        var ready = Handle(job, Running(job), Say("READY=1\nSTATUS=up")).Memory;
        var watched = Handle(job, ready, Say("WATCHDOG=1")).Memory;

        var exited = Handle(job, watched, Exit(Run, 1));
        exited.Effects.ShouldContain(new DisarmTimer(JobTimer.Watchdog));
        exited.Effects.OfType<Publish>().ShouldContain(Unhealthy);
        exited.Memory.Notify!.Ready.ShouldBeFalse();

        exited.Memory.State.ShouldBe(JobState.Starting);
        var next = Handle(job, exited.Memory, new RunStarted(new StubRun(4343))).Memory;
        next.Notify!.ShouldBe(new NotifyState { Accepted = 2 });
    }

    [Fact]
    public void Maintenance_HidesTheHealth_AndItsEnd_GivesAReadyRunItsHealthBack()
    {
        var ready = Handle(Notified(), Running(Notified()), Say("READY=1")).Memory;

        var inMaintenance = Handle(Notified(), ready, Bus(EventCode.EnterMaintenance, Event.GlobalSource)).Memory;
        inMaintenance.Health.ShouldBe(HealthStatus.Maintenance);
        var after = Handle(Notified(), inMaintenance, Bus(EventCode.ExitMaintenance, Event.GlobalSource));

        after.Memory.Health.ShouldBe(HealthStatus.Healthy);
        after.Effects.OfType<Publish>().ShouldBe([Healthy]);
    }
}
