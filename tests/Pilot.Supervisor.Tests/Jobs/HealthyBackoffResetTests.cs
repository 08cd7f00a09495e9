using Pilot.Supervisor.Config;
using Pilot.Supervisor.Health;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Notify;
using Shouldly;
using static Pilot.Supervisor.Tests.Jobs.JobMachineFixtures;

namespace Pilot.Supervisor.Tests.Jobs;

/// <summary>
/// The restart backoff starts over when the run becomes healthy (a passing check, or READY=1), as it does after a run
/// of <c>resetAfter</c>: the restart after a healthy run waits <c>initial</c>, however far the delay had grown.
/// </summary>
public sealed class HealthyBackoffResetTests
{
    private static readonly RestartBackoffConfig Backoff = new()
    {
        Initial = TimeSpan.FromSeconds(1), Factor = 2, Max = TimeSpan.FromSeconds(60), ResetAfter = TimeSpan.FromHours(1),
    };

    private static JobConfig App => new()
    {
        Name = "app", Exec = new CommandSpec("app", []), Restarts = JobConfig.UnlimitedRestarts, RestartBackoff = Backoff,
    };

    private static readonly JobDefinition Checked = JobDefinition.Of(App with
    {
        Health = new HealthConfig { Exec = new CommandSpec("check", []), Interval = TimeSpan.FromSeconds(1), TtlSeconds = 5 },
    });

    private static readonly JobDefinition Notified = JobDefinition.Of(App with { Health = new HealthConfig { Notify = true } });

    private static readonly JobDefinition Unchecked = JobDefinition.Of(App);

    private static JobStep Handle(JobDefinition job, JobMemory memory, JobInput input) => JobMachine.Handle(job, memory, input, At());

    /// <summary>Three quick failures: the backoff has grown to 4 s; the fourth run is alive.</summary>
    private static JobMemory AfterThreeFailures(JobDefinition job)
    {
        var memory = Drive(job, new Begin(), Bus(Startup));
        for (var pid = 1; pid <= 3; pid++)
        {
            var run = new StubRun(pid);
            memory = Handle(job, memory, new RunStarted(run)).Memory;
            memory = Handle(job, memory, Exit(run, 1)).Memory;
            memory = Handle(job, memory, new TimerFired(JobTimer.RestartBackoff)).Memory;
        }
        memory.RestartDelay.ShouldBe(TimeSpan.FromSeconds(4));
        return Handle(job, memory, new RunStarted(new StubRun(4))).Memory;
    }

    /// <summary>The delay the restart after the alive run's failure waits.</summary>
    private static TimeSpan? NextDelay(JobDefinition job, JobMemory running) =>
        Handle(job, running, Exit(running.Run!, 1)).Memory.RestartDelay;

    [Fact]
    public void PassingCheck_ResetsTheBackoff_SoTheNextRestartWaitsInitial()
    {
        var running = AfterThreeFailures(Checked);
        var probe = new StubProbe();
        running = Handle(Checked, running, new CheckStarted(probe)).Memory;

        var healthy = Handle(Checked, running, new CheckFinished(probe, new HealthCheckResult(HealthCheckOutcome.Passed, "exit status 0"))).Memory;

        healthy.BackoffBase.ShouldBeNull();
        NextDelay(Checked, healthy).ShouldBe(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void FailingCheck_KeepsTheBackoffGrowing()
    {
        var running = AfterThreeFailures(Checked);
        var probe = new StubProbe();
        running = Handle(Checked, running, new CheckStarted(probe)).Memory;

        var unhealthy = Handle(Checked, running, new CheckFinished(probe, new HealthCheckResult(HealthCheckOutcome.Failed, "exit status 1"))).Memory;

        NextDelay(Checked, unhealthy).ShouldBe(TimeSpan.FromSeconds(8));
    }

    [Fact]
    public void ReadyFromTheRun_ResetsTheBackoff()
    {
        var running = AfterThreeFailures(Notified);
        var ready = new NotifyReceived(NotifyMessage.Parse("READY=1"u8).Message!, new NotifySender(4, 0, 4, []));

        var healthy = Handle(Notified, running, ready).Memory;

        NextDelay(Notified, healthy).ShouldBe(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void WithoutACheck_OnlyResetAfterResetsTheBackoff()
    {
        NextDelay(Unchecked, AfterThreeFailures(Unchecked)).ShouldBe(TimeSpan.FromSeconds(8));
    }
}
