using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Graph;
using Pilot.Supervisor.Tests.Config;
using Shouldly;

namespace Pilot.Supervisor.Tests.Graph;

/// <summary><c>pilot why JOB</c> (issue 27, item 2): one line from the config, the snapshot and the time.</summary>
public sealed class WaitExplanationTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static readonly PilotConfig Config = ConfigText.Valid("""
        {
          watches: [{ name: "api", interval: 5 }],
          consul: "localhost:8500",
          jobs: [
            { name: "web", exec: "web", restarts: "unlimited", restartBackoff: { initial: "1s" }, health: { http: "http://127.0.0.1:1/", interval: 2, ttl: 5 } },
            { name: "announce", exec: "a", when: { source: "web", once: "healthy", timeout: "30s" } },
            { name: "alert", exec: "a", when: { source: "check.web", each: "exitFailed" } },
            { name: "upstreams", exec: "u", when: { source: "watch.api", each: "changed" } },
            { name: "backup", exec: "b", when: { cron: "0 3 * * *" } },
            { name: "typo", exec: "t", when: { source: "consol", once: "exitSuccess" } },
            { name: "setup", exec: "s" },
            { name: "bye", exec: "b", when: { source: "web", once: "stopping" } },
          ],
        }
        """);

    private static SupervisorSnapshot Status(params JobSnapshot[] jobs) =>
        new("1", false, [.. jobs], [new WatchSnapshot("api", [new WatchInstance("a1", "10.0.0.1", 80)], Now.AddSeconds(-3))]);

    private static string? Why(string name, params JobSnapshot[] jobs) => WaitExplanation.Explain(name, Config, Status(jobs), Now);

    private static readonly JobSnapshot Web = new()
    {
        Name = "web", State = JobState.Running, Health = HealthStatus.Unknown, Pid = 42, LastStarted = Now.AddSeconds(-75), Check = "http",
    };

    [Fact]
    public void Explain_AWaitingJob_NamesItsTrigger_TheSourceState_AndTheTimeoutLeft()
    {
        Why("announce", Web, new JobSnapshot { Name = "announce", State = JobState.Waiting, WhenTimeoutDue = Now.AddSeconds(12.34) })
            .ShouldBe("announce waits for \"healthy\" from web (once); web is running, health unknown; gives up in 12.3s (when.timeout 30s)");
    }

    [Fact]
    public void Explain_ACheckOrWatchSource_SaysWhereItStands()
    {
        Why("alert", Web, new JobSnapshot { Name = "alert", State = JobState.Waiting })
            .ShouldBe("alert waits for \"exitFailed\" from check.web (each); web is running, health unknown");
        Why("upstreams", new JobSnapshot { Name = "upstreams", State = JobState.Waiting })
            .ShouldBe("upstreams waits for \"changed\" from watch.api (each); 1 instance(s), last checked 3s ago");
    }

    [Fact]
    public void Explain_ATrap_SaysTheJobNeverStarts_AndWhy()
    {
        Why("typo", new JobSnapshot { Name = "typo", State = JobState.Waiting }).ShouldBe(
            "typo never starts: when.source \"consol\" is not a job, a health check, a watch or a known event source, so it never starts");
    }

    [Fact]
    public void Explain_ABackoffACronRunAndAStop_GiveTheirTimes()
    {
        Why("web", Web with { State = JobState.Exited, Pid = null, LastExitCode = 1, NextRestart = Now.AddSeconds(1.5), RestartDelay = TimeSpan.FromSeconds(2) })
            .ShouldBe("web exited with 1; restarts in 1.5s (restartBackoff delay 2s)");
        Why("backup", new JobSnapshot { Name = "backup", State = JobState.Exited, LastExitCode = 0, NextRun = new DateTimeOffset(2026, 12, 8, 3, 0, 0, TimeSpan.Zero) })
            .ShouldBe("backup exited with 0; waits for its next run: cron \"0 3 * * *\", next at 2026-12-08T03:00:00Z (in 15h0m0s)");
        Why("web", Web with { State = JobState.Stopping, WaitingFor = ImmutableHashSet.Create("bye") })
            .ShouldBe("web is stopping: waits for bye to stop before its processes get SIGTERM");
        Why("web", Web with { State = JobState.Stopped, Pid = null })
            .ShouldBe("web was stopped by an operator; waits for 'pilot start web' or 'pilot restart web'");
    }

    [Fact]
    public void Explain_ARunningOrFinishedJob_SaysItWaitsForNothing()
    {
        Why("web", Web).ShouldBe("web is running (pid 42, up 1m15s); waits for nothing");
        Why("setup", new JobSnapshot { Name = "setup", State = JobState.Exited, LastExitCode = 0 })
            .ShouldBe("setup exited with 0 and waits for nothing: its trigger was used once and its restarts (0) are used up");
        Why("setup", new JobSnapshot { Name = "setup", State = JobState.Completed })
            .ShouldBe("setup has completed (halted for good; only a reload starts it again)");
    }

    [Fact]
    public void Explain_AnUnknownJob_IsNull()
    {
        Why("nope", Web).ShouldBeNull();
    }
}
