using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Processes;
using Pilot.Supervisor.Tests.TestSupport;
using Shouldly;
using static Pilot.Supervisor.Tests.TestSupport.JobHarness;

namespace Pilot.Supervisor.Tests.Jobs;

public sealed class JobTests
{
    [Fact]
    public async Task Job_RunsOnceAtStartupAndHalts_WhenExitSucceedsWithoutRestarts()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("app"));
        h.Start();

        var run = await h.Launcher.WaitForStartAsync("app");
        run.Exit(0);

        await h.WaitAsync(E(EventCode.Stopped, "app"));
        h.Recorder.Events.Where(e => e.Source == "app").ShouldBe(
            [E(EventCode.ExitSuccess, "app"), E(EventCode.Stopping, "app"), E(EventCode.Stopped, "app")]);
        h.Jobs[0].Snapshot.State.ShouldBe(JobState.Completed);
        h.Jobs[0].Snapshot.LastExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task Job_PublishesExitFailedThenError_WhenExitIsNonZero()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("app"));
        h.Start();

        (await h.Launcher.WaitForStartAsync("app")).Exit(3);

        await h.WaitAsync(E(EventCode.Stopped, "app"));
        var events = h.Recorder.Events.ToList();
        events.IndexOf(E(EventCode.Error, "app: exit status 3")).ShouldBe(events.IndexOf(E(EventCode.ExitFailed, "app")) + 1);
    }

    [Fact]
    public async Task Job_RestartsExactlyTheLimit_WhenRestartsIsANumber()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("app") with { Restarts = 2 });
        h.Start();

        for (var i = 1; i <= 3; i++)
        {
            (await h.Launcher.WaitForStartAsync("app", i)).Exit(1);
        }

        await h.WaitAsync(E(EventCode.Stopped, "app"));
        h.Launcher.Named("app").Count().ShouldBe(3);
        h.Jobs[0].Snapshot.Restarts.ShouldBe(2);
    }

    [Fact]
    public async Task Job_StartsAfterAnotherJobsExitSuccess_WhenOnceIsExitSuccess()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("setup"));
        h.Add(JobNamed("app") with { When = new WhenConfig { Trigger = E(EventCode.ExitSuccess, "setup"), StartsLimit = 1 } });
        h.Start();

        await h.Launcher.WaitForStartAsync("setup");
        await h.SyncAsync();
        h.Launcher.Named("app").ShouldBeEmpty();

        (await h.Launcher.WaitForStartAsync("setup")).Exit(0);

        await h.Launcher.WaitForStartAsync("app");
    }

    [Fact]
    public async Task Job_RunsOnEveryHealthy_WhenEachIsHealthy_AndOnlyOnceWhenOnce()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("each-job") with { When = new WhenConfig { Trigger = E(EventCode.StatusHealthy, "db"), StartsLimit = -1, IsEach = true } });
        h.Add(JobNamed("once-job") with { When = new WhenConfig { Trigger = E(EventCode.StatusHealthy, "db"), StartsLimit = 1 } });
        h.Start();

        for (var i = 1; i <= 3; i++)
        {
            h.Bus.Publish(E(EventCode.StatusHealthy, "db"));
            (await h.Launcher.WaitForStartAsync("each-job", i)).Exit(0);
            await h.WaitAsync(E(EventCode.ExitSuccess, "each-job"), i);
        }
        await h.SyncAsync();

        h.Launcher.Named("each-job").Count().ShouldBe(3);
        h.Launcher.Named("once-job").Count().ShouldBe(1);
    }

    [Fact]
    public async Task Job_QueuesOneStart_WhenTriggeredWhileRunIsAlive()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("each-job") with { When = new WhenConfig { Trigger = E(EventCode.StatusChanged, "watch.db"), StartsLimit = -1, IsEach = true } });
        h.Start();

        h.Bus.Publish(E(EventCode.StatusChanged, "watch.db"));
        var first = await h.Launcher.WaitForStartAsync("each-job");
        h.Bus.Publish(E(EventCode.StatusChanged, "watch.db"));
        h.Bus.Publish(E(EventCode.StatusChanged, "watch.db"));
        await h.SyncAsync();

        h.Launcher.Named("each-job").Count().ShouldBe(1, "never two runs at once");
        h.Jobs[0].Snapshot.State.ShouldBe(JobState.RestartQueued);
        h.LogText.ToString().ShouldContain("start queued");
        first.Exit(0);
        (await h.Launcher.WaitForStartAsync("each-job", 2)).Exit(0);
        await h.WaitAsync(E(EventCode.ExitSuccess, "each-job"), 2);
        await h.SyncAsync();
        h.Launcher.Named("each-job").Count().ShouldBe(2, "the two triggers during the run coalesce into one start");
        h.Jobs[0].Snapshot.State.ShouldBe(JobState.Exited);
    }

    [Fact]
    public async Task Job_PublishesTimerExpiredAndHalts_WhenWhenTimeoutPassesBeforeTrigger()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("late") with { When = new WhenConfig { Trigger = E(EventCode.StatusHealthy, "db"), StartsLimit = 1, Timeout = TimeSpan.FromSeconds(10) } });
        h.Start();
        await h.SyncAsync();

        h.Time.Advance(TimeSpan.FromSeconds(10));

        await h.WaitAsync(E(EventCode.Stopped, "late"));
        h.Recorder.Events.ShouldContain(E(EventCode.TimerExpired, "late"));
        h.Launcher.Named("late").ShouldBeEmpty();
    }

    [Fact]
    public async Task PeriodicJob_RunsAtStartupAndEveryInterval_UntilRestartsRunOut()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("tick") with
        {
            When = new WhenConfig { Interval = TimeSpan.FromSeconds(5) },
            Restarts = 2,
            Timeout = TimeSpan.FromSeconds(5),
        });
        h.Start();
        await h.EndRunAsync("tick", 1, 0);

        for (var i = 2; i <= 3; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(5));
            await h.EndRunAsync("tick", i, 0);
        }
        h.Time.Advance(TimeSpan.FromSeconds(5));

        await h.WaitAsync(E(EventCode.Stopped, "tick"));
        h.Launcher.Named("tick").Count().ShouldBe(3);
    }

    [Fact]
    public async Task Job_IsKilled_WhenRunExceedsTimeout()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("slow") with { Timeout = TimeSpan.FromSeconds(2) });
        h.Start();
        var run = await h.Launcher.WaitForStartAsync("slow");
        // The run timeout is armed in the step that publishes the running snapshot.
        await h.WaitForStateAsync(h.Jobs[0], JobState.Running);

        h.Time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(1));
        await h.SyncAsync();
        run.Exited.IsCompleted.ShouldBeFalse();
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        // error is published right after exitFailed, so waiting for it sees both.
        await h.WaitAsync(E(EventCode.Error, "slow: signal: killed"));
        h.Recorder.Events.ShouldContain(E(EventCode.ExitFailed, "slow"));
        run.Signals.ShouldContain(SignalNames.SIGKILL);
    }

    [Fact]
    public async Task HealthCheck_PublishesHealthyOrUnhealthyOnEveryResult()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("web") with
        {
            Health = new HealthConfig { Exec = new CommandSpec("check", []), Interval = TimeSpan.FromSeconds(1), TtlSeconds = 5, Timeout = TimeSpan.FromSeconds(1) },
        });
        h.Start();
        await h.Launcher.WaitForStartAsync("web");

        var results = new[] { 0, 0, 1 };
        for (var i = 0; i < results.Length; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
            await h.EndRunAsync("check.web", i + 1, results[i]);
        }
        await h.SyncAsync();

        h.Recorder.Count(E(EventCode.StatusHealthy, "web")).ShouldBe(2);
        h.Recorder.Count(E(EventCode.StatusUnhealthy, "web")).ShouldBe(1);
        h.Jobs[0].Snapshot.Health.ShouldBe(HealthStatus.Unhealthy);
    }

    [Fact]
    public async Task HealthCheck_DoesNotRun_InMaintenance()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("web") with
        {
            Health = new HealthConfig { Exec = new CommandSpec("check", []), Interval = TimeSpan.FromSeconds(1), TtlSeconds = 5 },
        });
        h.Start();
        await h.Launcher.WaitForStartAsync("web");
        h.Bus.Publish(new Event(EventCode.EnterMaintenance, Event.GlobalSource));
        await h.SyncAsync();

        h.Time.Advance(TimeSpan.FromSeconds(3));
        await h.SyncAsync();

        h.Launcher.Named("check.web").ShouldBeEmpty();
        h.Jobs[0].Snapshot.Health.ShouldBe(HealthStatus.Maintenance);
    }

    [Fact]
    public async Task Shutdown_RunsPreStopJobBeforeStoppedOfTheService()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("app"), stoppingDependents: ["pre-stop"]);
        h.Add(JobNamed("pre-stop") with { When = new WhenConfig { Trigger = E(EventCode.Stopping, "app"), StartsLimit = 1 } });
        h.Start();
        var app = await h.Launcher.WaitForStartAsync("app");

        h.Bus.Publish(Event.GlobalShutdown);
        var preStop = await h.Launcher.WaitForStartAsync("pre-stop");
        await h.SyncAsync();
        h.Recorder.Events.ShouldNotContain(E(EventCode.Stopped, "app"));
        h.Jobs[0].Snapshot.State.ShouldBe(JobState.Stopping);
        app.Exited.IsCompleted.ShouldBeFalse();
        preStop.Exit(0);

        await h.WaitAsync(E(EventCode.Stopped, "app"));
        var events = h.Recorder.Events.ToList();
        events.IndexOf(E(EventCode.Stopped, "pre-stop")).ShouldBeLessThan(events.IndexOf(E(EventCode.Stopped, "app")));
        app.Signals.ShouldContain(SignalNames.SIGTERM);
    }

    [Fact]
    public async Task Stop_SendsSigkill_WhenJobIgnoresSigtermForStopTimeout_AndLogsTheKillLineOnce()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("stubborn") with { StopTimeout = TimeSpan.FromSeconds(3) });
        h.Start();
        var run = await h.Launcher.WaitForStartAsync("stubborn");
        run.HonoursSigterm = false;

        h.Bus.Publish(Event.GlobalShutdown);
        // The termination (SIGTERM, and the machine's kill timer) starts in the step that publishes Terminating.
        await h.WaitForStateAsync(h.Jobs[0], JobState.Terminating);
        var sigterm = h.Time.GetUtcNow();
        run.Signals.ShouldBe([SignalNames.SIGTERM]);

        // The kill timer is armed in that step; one move of the clock past the grace fires it. The times the fake
        // process records say when each signal came.
        h.Time.Advance(TimeSpan.FromSeconds(4));
        await h.WaitAsync(E(EventCode.Stopped, "stubborn"));
        run.Signals.Take(2).ShouldBe([SignalNames.SIGTERM, SignalNames.SIGKILL]);
        var sigkill = run.Received.Single(r => r.Signal == SignalNames.SIGKILL).At;
        (sigkill - sigterm).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(3), "not killed before the job's stopTimeout");
        (sigkill - sigterm).ShouldBeLessThanOrEqualTo(TimeSpan.FromSeconds(4));
        System.Text.RegularExpressions.Regex.Count(h.LogText.ToString(), "killing processes for job \"stubborn\"").ShouldBe(1);
    }

    [Fact]
    public async Task Job_StartsOnEverySignal_WhenSourceIsSighup()
    {
        await using var h = new JobHarness();
        h.Add(JobNamed("on-hup") with { When = new WhenConfig { Trigger = E(EventCode.Signal, "SIGHUP"), StartsLimit = -1 } });
        h.Start();
        await h.SyncAsync();
        h.Launcher.Named("on-hup").ShouldBeEmpty();

        for (var i = 1; i <= 2; i++)
        {
            h.Bus.Publish(E(EventCode.Signal, "SIGHUP"));
            (await h.Launcher.WaitForStartAsync("on-hup", i)).Exit(0);
            await h.WaitAsync(E(EventCode.ExitSuccess, "on-hup"), i);
        }
        h.Bus.Publish(E(EventCode.Signal, "SIGUSR2"));
        await h.SyncAsync();
        h.Launcher.Named("on-hup").Count().ShouldBe(2);
    }

    [Fact]
    public async Task Job_ReportsExitFailedAndError_WhenExecutableIsMissing()
    {
        await using var h = new JobHarness();
        h.Launcher.Missing.Add("nope");
        h.Add(JobNamed("ghost", "nope"));
        h.Start();

        await h.WaitAsync(E(EventCode.Stopped, "ghost"));
        h.Recorder.Events.ShouldContain(E(EventCode.ExitFailed, "ghost"));
        h.Recorder.Events.ShouldContain(E(EventCode.Error, "exec: \"nope\": executable file not found in $PATH"));
    }

    [Fact]
    public async Task Stop_UsesTheGlobalStopTimeoutInForce_WhenTheJobStops()
    {
        var global = TimeSpan.FromSeconds(60);
        await using var h = new JobHarness(() => global);
        h.Add(JobNamed("stubborn"));
        h.Start();
        var run = await h.Launcher.WaitForStartAsync("stubborn");
        run.HonoursSigterm = false;

        // A reload that lowers the global stopTimeout reaches the jobs it keeps.
        global = TimeSpan.FromSeconds(2);
        h.Bus.Publish(Event.GlobalShutdown);
        await h.WaitForStateAsync(h.Jobs[0], JobState.Terminating);
        var sigterm = h.Time.GetUtcNow();
        h.Time.Advance(TimeSpan.FromSeconds(3));

        await h.WaitAsync(E(EventCode.Stopped, "stubborn"));
        var sigkill = run.Received.Single(r => r.Signal == SignalNames.SIGKILL).At;
        (sigkill - sigterm).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2));
        (sigkill - sigterm).ShouldBeLessThan(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task StopCommand_StopsTheJob_AndKeepsItStopped_UntilAStartCommand()
    {
        await using var h = new JobHarness();
        var job = h.Add(JobNamed("each-job") with { When = new WhenConfig { Trigger = E(EventCode.StatusChanged, "watch.db"), StartsLimit = -1, IsEach = true } });
        h.Start();
        h.Bus.Publish(E(EventCode.StatusChanged, "watch.db"));
        var first = await h.Launcher.WaitForStartAsync("each-job");

        // Answered once the stop is done: the run terminated, `stopping` and `stopped` published.
        var stop = await job.SendAsync(JobCommand.Stop);
        (stop.Job.State, stop.Changed).ShouldBe((JobState.Stopped, true));
        first.Signals.ShouldBe([SignalNames.SIGTERM]);
        await h.WaitAsync(E(EventCode.Stopping, "each-job"));
        await h.WaitAsync(E(EventCode.Stopped, "each-job"));
        h.Bus.Publish(E(EventCode.StatusChanged, "watch.db"));
        await h.SyncAsync();
        h.Launcher.Named("each-job").Count().ShouldBe(1, "a stopped job ignores its trigger");
        (await job.SendAsync(JobCommand.Stop)).Changed.ShouldBeFalse("stopping a stopped job changes nothing");

        (await job.SendAsync(JobCommand.Start)).Job.State.ShouldBe(JobState.Running);
        await h.Launcher.WaitForStartAsync("each-job", 2);
    }

    [Fact]
    public async Task RestartCommand_TerminatesTheRun_AndStartsItAgain()
    {
        await using var h = new JobHarness();
        var job = h.Add(JobNamed("app") with { Restarts = JobConfig.UnlimitedRestarts });
        h.Start();
        var first = await h.Launcher.WaitForStartAsync("app");

        var restart = await job.SendAsync(JobCommand.Restart);
        (restart.Job.State, restart.Changed).ShouldBe((JobState.Running, true));

        await h.Launcher.WaitForStartAsync("app", 2);
        first.Signals.ShouldBe([SignalNames.SIGTERM]);
        (await h.WaitForStateAsync(job, JobState.Running)).Restarts.ShouldBe(0, "a restart asked for is not a crash");
    }
}
