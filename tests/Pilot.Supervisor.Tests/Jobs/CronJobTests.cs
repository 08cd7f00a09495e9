using Pilot.Supervisor.Config;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Tests.TestSupport;
using Shouldly;
using static Pilot.Supervisor.Tests.Jobs.JobMachineFixtures;
using static Pilot.Supervisor.Tests.TestSupport.JobHarness;

namespace Pilot.Supervisor.Tests.Jobs;

/// <summary><c>when.cron</c>: the next-run rule alone, the machine's timer effects, and a job on a fake clock.</summary>
public sealed class CronJobTests
{
    private static CronSchedule Cron(string text) => CronSchedule.Parse(text).Schedule ?? throw new InvalidOperationException(CronSchedule.Parse(text).Error);

    private static DateTimeOffset At(string utc) => DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("*/15 * * * *", "2026-01-01T10:07:30Z", "2026-01-01T10:15:00Z")]
    [InlineData("*/15 * * * *", "2026-01-01T10:15:00Z", "2026-01-01T10:30:00Z")]
    [InlineData("0 3 * * 1", "2026-01-01T10:00:00Z", "2026-01-05T03:00:00Z")]
    [InlineData("*/10 * * * * *", "2026-01-01T10:00:05Z", "2026-01-01T10:00:10Z")]
    [InlineData("30 0 12 * * *", "2026-01-01T12:00:30Z", "2026-01-02T12:00:30Z")]
    [InlineData("@hourly", "2026-01-01T10:59:59Z", "2026-01-01T11:00:00Z")]
    [InlineData("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z")]
    public void NextCronRun_IsTheFirstScheduledTimeStrictlyAfterNow_FiveOrSixFields(string expression, string now, string next) =>
        JobMachine.NextCronRun(Cron(expression), At(now)).ShouldBe(At(next));

    private static readonly JobDefinition CronJob = JobDefinition.Of(new JobConfig
    {
        Name = "app",
        Exec = new CommandSpec("app", []),
        When = new WhenConfig { Cron = Cron("*/10 * * * * *") },
        Restarts = JobConfig.UnlimitedRestarts,
    });

    [Fact]
    public void Begin_ArmsTheTimerForTheNextScheduledRun_NotPeriodically()
    {
        var step = JobMachine.Handle(CronJob, JobMemory.Initial(CronJob), new Begin(), JobMachineFixtures.At(TimeSpan.FromSeconds(3)));

        step.Effects.ShouldContain(new ArmTimer(JobTimer.Interval, TimeSpan.FromSeconds(7), Periodic: false));
        step.Memory.NextCronRun.ShouldBe(T0 + TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Tick_AtTheScheduledTime_StartsTheRun_AndArmsTheNextOne()
    {
        var run = new StubRun(7);
        var waiting = Drive(CronJob, new Begin(), Bus(Startup), new RunStarted(run), Exit(run, 0));
        waiting.State.ShouldBe(Control.JobState.Exited);

        var step = JobMachine.Handle(CronJob, waiting, new TimerFired(JobTimer.Interval), JobMachineFixtures.At(TimeSpan.FromSeconds(10)));

        step.Effects.ShouldContain(new LaunchRun());
        step.Effects.ShouldContain(new ArmTimer(JobTimer.Interval, TimeSpan.FromSeconds(10), Periodic: false));
        step.Memory.NextCronRun.ShouldBe(T0 + TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void Tick_BeforeTheScheduledTime_OnlyArmsTheTimerAgain()
    {
        var yearly = JobDefinition.Of(CronJob.Config with { When = new WhenConfig { Cron = Cron("0 0 1 1 *") } });
        var begun = JobMachine.Handle(yearly, JobMemory.Initial(yearly), new Begin(), JobMachineFixtures.At(TimeSpan.FromHours(1))).Memory;
        begun.NextCronRun.ShouldBe(At("2027-01-01T00:00:00Z"));

        // The wait is longer than a timer holds: the tick comes early, and nothing starts.
        var step = JobMachine.Handle(yearly, begun, new TimerFired(JobTimer.Interval), JobMachineFixtures.At(TimeSpan.FromDays(50)));

        step.Effects.ShouldNotContain(new LaunchRun());
        step.Effects.ShouldContain(new ArmTimer(JobTimer.Interval, TimeSpan.FromMilliseconds(uint.MaxValue - 1.0), Periodic: false), "the longest timer, again");
        step.Memory.NextCronRun.ShouldBe(begun.NextCronRun);
    }

    [Fact]
    public async Task CronJob_RunsAtStartup_ThenAtEveryScheduledTime_OnAFakeClock()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("tick") with { When = new WhenConfig { Cron = Cron("*/10 * * * * *") }, Restarts = JobConfig.UnlimitedRestarts });
        h.Start();
        await h.EndRunAsync("tick", 1, 0);

        h.Time.Advance(TimeSpan.FromSeconds(9));
        await h.SyncAsync();
        h.Launcher.Named("tick").Count().ShouldBe(1, "nothing before 00:00:10");
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await h.EndRunAsync("tick", 2, 0);
        h.Time.Advance(TimeSpan.FromSeconds(10));
        await h.EndRunAsync("tick", 3, 1);

        h.Recorder.Events.Count(e => e == E(EventCode.ExitFailed, "tick")).ShouldBe(1);
        h.Launcher.Named("tick").Count().ShouldBe(3, "a periodic job's failure does not restart it: the schedule does");
    }
}
