using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Tests.TestSupport;
using Shouldly;
using static Pilot.Supervisor.Tests.TestSupport.JobHarness;

namespace Pilot.Supervisor.Tests.Jobs;

/// <summary>Operator stop/start/restart of one job, run by the job's own loop.</summary>
public sealed class JobOperatorCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static Task<JobCommandOutcome> Run(Job job, JobCommand command) =>
        job.RunCommandAsync(command, TestContext.Current.CancellationToken).WaitAsync(Timeout);

    [Fact]
    public async Task Stop_TerminatesTheRunAndStaysStopped_UntilStarted()
    {
        await using var h = new JobHarness();
        var job = h.Add(JobNamed("app") with { Restarts = -1 });
        h.Start();
        var first = await h.Launcher.WaitForStartAsync("app");

        (await Run(job, JobCommand.Stop)).ShouldBe(JobCommandOutcome.Done);
        h.Bus.Publish(Event.GlobalStartup);
        await h.SyncAsync();

        first.Signals.ShouldContain(Supervisor.Processes.SignalNames.SIGTERM);
        h.Recorder.Events.Where(e => e.Source == "app").ShouldBe(
            [E(EventCode.Stopping, "app"), E(EventCode.ExitFailed, "app"), E(EventCode.Stopped, "app")]);
        job.Snapshot.State.ShouldBe(JobState.Stopped);
        job.Snapshot.Pid.ShouldBeNull();
        h.Launcher.Named("app").Count().ShouldBe(1, "unlimited restarts and a new trigger do not start a stopped job");

        (await Run(job, JobCommand.Start)).ShouldBe(JobCommandOutcome.Done);

        var second = await h.Launcher.WaitForStartAsync("app", 2);
        await h.WaitAsync(E(EventCode.Startup, "app"));
        job.Snapshot.State.ShouldBe(JobState.Running);
        job.Snapshot.Pid.ShouldBe(second.Pid);
    }

    [Fact]
    public async Task Restart_StartsANewRun_AfterStoppingExitStoppedAndStartup()
    {
        await using var h = new JobHarness();
        // restarts: never, so a stale exit taken for the new run's would halt the job.
        var job = h.Add(JobNamed("app"));
        h.Start();
        var first = await h.Launcher.WaitForStartAsync("app");

        (await Run(job, JobCommand.Restart)).ShouldBe(JobCommandOutcome.Done);
        var second = await h.Launcher.WaitForStartAsync("app", 2);
        await h.SyncAsync();

        second.Pid.ShouldNotBe(first.Pid);
        h.Recorder.Events.Where(e => e.Source == "app").ShouldBe(
            [E(EventCode.Stopping, "app"), E(EventCode.ExitFailed, "app"), E(EventCode.Stopped, "app"), E(EventCode.Startup, "app")]);
        job.Snapshot.State.ShouldBe(JobState.Running);
        job.Completion.IsCompleted.ShouldBeFalse();

        second.Exit(0);
        await h.WaitAsync(E(EventCode.Stopped, "app"), occurrences: 2);
        job.Snapshot.State.ShouldBe(JobState.Completed, "the new run ends the job as the first would have");
    }

    [Fact]
    public async Task Start_IsUnchanged_WhenRunning_AndStop_IsUnchanged_WhenStopped()
    {
        await using var h = new JobHarness();
        var job = h.Add(JobNamed("app"));
        h.Start();
        await h.Launcher.WaitForStartAsync("app");

        (await Run(job, JobCommand.Start)).ShouldBe(JobCommandOutcome.Unchanged);
        (await Run(job, JobCommand.Stop)).ShouldBe(JobCommandOutcome.Done);
        (await Run(job, JobCommand.Stop)).ShouldBe(JobCommandOutcome.Unchanged);
        await h.SyncAsync();

        h.Launcher.Named("app").Count().ShouldBe(1);
        h.Recorder.Count(E(EventCode.Stopped, "app")).ShouldBe(1);
    }

    [Fact]
    public async Task Command_ReportsHalted_WhenTheJobHasCompleted()
    {
        await using var h = new JobHarness();
        var job = h.Add(JobNamed("setup"));
        h.Start();
        (await h.Launcher.WaitForStartAsync("setup")).Exit(0);
        await job.Completion.WaitAsync(Timeout, TestContext.Current.CancellationToken);

        (await Run(job, JobCommand.Start)).ShouldBe(JobCommandOutcome.Halted);
        (await Run(job, JobCommand.Restart)).ShouldBe(JobCommandOutcome.Halted);
    }

    [Fact]
    public async Task Shutdown_HaltsAJobStoppedByTheOperator()
    {
        await using var h = new JobHarness();
        var job = h.Add(JobNamed("app"));
        h.Start();
        await h.Launcher.WaitForStartAsync("app");
        (await Run(job, JobCommand.Stop)).ShouldBe(JobCommandOutcome.Done);

        h.Bus.Publish(Event.GlobalShutdown);

        await job.Completion.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        job.Snapshot.State.ShouldBe(JobState.Completed);
    }

    [Fact]
    public async Task PeriodicJob_SkipsTicksWhileStopped_AndRunsAtOnceWhenStarted()
    {
        await using var h = new JobHarness();
        var job = h.Add(JobNamed("tick") with
        {
            When = new WhenConfig { Interval = TimeSpan.FromSeconds(10) },
            Restarts = -1,
            Timeout = TimeSpan.FromSeconds(10),
        });
        h.Start();
        await h.EndRunAsync("tick", 1, 0);
        (await Run(job, JobCommand.Stop)).ShouldBe(JobCommandOutcome.Done);

        h.Time.Advance(TimeSpan.FromSeconds(10));
        await h.SyncAsync();
        h.Launcher.Named("tick").Count().ShouldBe(1);

        (await Run(job, JobCommand.Start)).ShouldBe(JobCommandOutcome.Done);
        await h.Launcher.WaitForStartAsync("tick", 2);
    }
}
