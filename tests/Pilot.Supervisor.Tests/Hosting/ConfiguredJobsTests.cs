using Pilot.Supervisor.Config;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Hosting;
using Shouldly;

namespace Pilot.Supervisor.Tests.Hosting;

/// <summary>The job graph and the reload plan as pure functions: no processes, no supervisor.</summary>
public sealed class ConfiguredJobsTests
{
    private static JobConfig Job(string name, EventCode code = default, string? source = null, string command = "true") => new()
    {
        Name = name,
        Exec = new CommandSpec(command, []),
        When = source is null ? new WhenConfig() : new WhenConfig { Trigger = new Event(code, source), StartsLimit = 1 },
    };

    [Fact]
    public void Graph_GivesEachJobItsPreStopJobs_AndItsShutdownDependents_OnlyWithAnOrderedShutdown()
    {
        var jobs = new[] { Job("db"), Job("app", EventCode.StatusHealthy, "db"), Job("drain", EventCode.Stopping, "app"), Job("after", EventCode.Stopped, "app") };

        var unordered = ConfiguredJobs.Of(new PilotConfig { Jobs = [.. jobs] });
        var ordered = ConfiguredJobs.Of(new PilotConfig { Jobs = [.. jobs], ShutdownOrder = ShutdownOrder.Dependencies });

        unordered.Jobs.Select(j => j.Name).ShouldBe(["db", "app", "drain", "after"]);
        unordered.NodeOf(jobs[1]).StoppingDependents.ShouldBe(["drain"]);
        unordered.NodeOf(jobs[0]).StoppingDependents.ShouldBeEmpty();
        unordered.NodeOf(jobs[0]).ShutdownDependents.ShouldBeNull();
        ordered.NodeOf(jobs[0]).ShutdownDependents.ShouldBe(["app"], ignoreOrder: true);
        ordered.NodeOf(jobs[1]).ShutdownDependents.ShouldBeEmpty();
    }

    [Fact]
    public void Graph_AddsTheTelemetryJob_WhenTelemetryIsOn_UnlessTheConfigNamesOne()
    {
        var telemetry = new TelemetryConfig { Port = 9090 };

        ConfiguredJobs.JobsOf(new PilotConfig { Jobs = [Job("app")] }).Select(j => j.Name).ShouldBe(["app"]);
        var added = ConfiguredJobs.JobsOf(new PilotConfig { Jobs = [Job("app")], Telemetry = telemetry });
        added.Select(j => j.Name).ShouldBe(["app", JobConfig.TelemetryJobName]);
        added[^1].Port.ShouldBe(9090);
        added[^1].Health!.TtlSeconds.ShouldBe(15);
        ConfiguredJobs.JobsOf(new PilotConfig { Jobs = [Job(JobConfig.TelemetryJobName)], Telemetry = telemetry }).Length.ShouldBe(1);
    }

    /// <summary>A job as the plan sees it; a class, as <c>Job</c> is: two jobs with equal configs are two jobs.</summary>
    private sealed class Live(JobConfig config, bool completed = false, bool retired = false)
    {
        public JobConfig Config => config;
        public bool Completed => completed;
        public bool Retired => retired;
    }

    private static ReloadPlan<Live> Plan(IReadOnlyList<Live> current, params JobConfig[] next) =>
        ReloadPlan.Compute(current, j => j.Config, j => j.Completed, j => j.Retired, [.. next]);

    [Fact]
    public void Plan_KeepsUnchangedJobs_RetiresChangedAndRemovedOnes_AndStartsTheRest()
    {
        var web = new Live(Job("web"));
        var worker = new Live(Job("worker"));
        var old = new Live(Job("old"));

        var plan = Plan([web, worker, old], Job("web"), Job("worker", command: "changed"), Job("new"));

        plan.Keep.ShouldBe([web]);
        plan.Retire.ShouldBe([worker, old]);
        plan.Start.Select(j => (j.Name, j.Exec!.Program)).ShouldBe([("worker", "changed"), ("new", "true")]);
    }

    [Fact]
    public void Plan_KeepsACompletedOneShot_SoItIsNotRunAgain_AndDropsCompletedJobsTheConfigNoLongerHas()
    {
        var setup = new Live(Job("setup"), completed: true);
        var gone = new Live(Job("gone"), completed: true);

        var plan = Plan([setup, gone], Job("setup"));

        plan.Keep.ShouldBe([setup]);
        plan.Retire.ShouldBeEmpty();
        plan.Start.ShouldBeEmpty();
        plan.Remaining([setup, gone], j => j.Completed).ShouldBe([setup]);
    }

    [Fact]
    public void Plan_MatchesByWholeConfig_LiveJobsFirst_AndDuplicatesOneForOne()
    {
        // v3 does not require unique names: two equal jobs are two jobs.
        var first = new Live(Job("twin"));
        var second = new Live(Job("twin"), completed: true);

        var plan = Plan([first, second], Job("twin"));
        plan.Keep.ShouldBe([first]);
        plan.Start.ShouldBeEmpty();

        var both = Plan([first, second], Job("twin"), Job("twin"));
        both.Keep.ShouldBe([first, second]);
        both.Start.ShouldBeEmpty();

        var three = Plan([first], Job("twin"), Job("twin"));
        three.Keep.ShouldBe([first]);
        three.Start.Select(j => j.Name).ShouldBe(["twin"]);
    }

    [Fact]
    public void Plan_NeverMatchesAJobAnEarlierReloadStopped_AndKeepsListingItWhileItLives()
    {
        var stuck = new Live(Job("stuck"), retired: true);
        var kept = new Live(Job("kept"));

        var plan = Plan([stuck, kept], Job("stuck"), Job("kept"));

        plan.Retire.ShouldBeEmpty();
        plan.Keep.ShouldBe([kept]);
        plan.Start.Select(j => j.Name).ShouldBe(["stuck"]);
        plan.Remaining([stuck, kept], j => j.Completed).ShouldBe([stuck, kept]);
    }

    [Fact]
    public void Plan_KeepsAKeptJobThatCompletedDuringTheReload_SoItIsNotStartedAgain()
    {
        var oneShot = new Live(Job("oneshot"));
        var plan = Plan([oneShot], Job("oneshot"));

        // It completed while the reload waited for the retired jobs.
        plan.Remaining([oneShot], _ => true).ShouldBe([oneShot]);
        plan.Start.ShouldBeEmpty();
    }
}
