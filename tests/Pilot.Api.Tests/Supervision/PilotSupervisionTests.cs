using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>The real <c>pilot</c> binary supervising real `sh` jobs, driven by real signals.</summary>
public sealed class PilotSupervisionTests
{
    private const int SIGHUP = 1, SIGTERM = 15, SIGUSR2 = 12;

    [Fact]
    public async Task Sigterm_RunsPreStopJobThenStopsServiceInOrder_AndExitsZero()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              stopTimeout: 10,
              jobs: [
                { name: "app", exec: ["sh", "-c", "trap 'echo app-got-term; exit 0' TERM; echo app-up; while true; do sleep 0.1; done"] },
                { name: "pre-stop", exec: "echo pre-stop-ran", when: { source: "app", once: "stopping" } },
                { name: "post-stop", exec: "echo post-stop-ran", when: { source: "app", once: "stopped" } },
              ],
            }
            """);
        await pilot.WaitForLineAsync("app-up", timeout.Token);

        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        var lines = pilot.Lines.ToList();
        int Index(string text) => lines.FindIndex(l => l.Contains(text, StringComparison.Ordinal));
        Index("pre-stop-ran").ShouldBeGreaterThan(-1, pilot.Output);
        Index("pre-stop-ran").ShouldBeLessThan(Index("app-got-term"), pilot.Output);
        Index("app-got-term").ShouldBeLessThan(Index("post-stop-ran"), pilot.Output);
        File.Exists(pilot.SocketPath).ShouldBeFalse("the control socket is removed on exit");
    }

    [Fact]
    public async Task SighupAndSigusr2_TriggerTheJobsWaitingForThem()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "main", exec: ["sh", "-c", "echo main-up; exec sleep 60"] },
                { name: "on-hup", exec: "echo hup-handled", when: { source: "SIGHUP" } },
                { name: "on-usr2", exec: "echo usr2-handled", when: { source: "SIGUSR2", each: "SIGUSR2" } },
              ],
            }
            """);
        await pilot.WaitForLineAsync("main-up", timeout.Token);

        pilot.Signal(SIGHUP);
        await pilot.WaitForLineAsync("hup-handled", timeout.Token);
        pilot.Signal(SIGHUP);
        await pilot.WaitForLineAsync("hup-handled", timeout.Token, occurrences: 2);
        pilot.Signal(SIGUSR2);
        await pilot.WaitForLineAsync("usr2-handled", timeout.Token);

        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task Pilot_ExitsWithTheJobsExitCode_WhenTheOnlyJobFails()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            { control: { socket: "SOCKET" }, jobs: [ { name: "once", exec: ["sh", "-c", "echo failing; exit 3"] } ] }
            """);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(3, pilot.Output);
        pilot.Output.ShouldContain("once exited with error: exit status 3");
    }

    [Fact]
    public async Task Pilot_ExitsZero_WhenEveryJobSucceeded()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "first", exec: "echo first" },
                { name: "second", exec: "echo second", when: { source: "first", once: "exitSuccess" } },
              ],
            }
            """);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.IndexOf("first", StringComparison.Ordinal).ShouldBeLessThan(pilot.Output.IndexOf("second", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sigterm_KillsJobIgnoringIt_AfterItsStopTimeout()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              stopTimeout: 30,
              jobs: [ { name: "stubborn", exec: ["sh", "-c", "trap '' TERM; echo stubborn-up; while true; do sleep 0.1; done"], stopTimeout: "1s" } ],
            }
            """);
        await pilot.WaitForLineAsync("stubborn-up", timeout.Token);
        var signalled = DateTime.UtcNow;

        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        (DateTime.UtcNow - signalled).ShouldBeLessThan(TimeSpan.FromSeconds(20), "the job's stopTimeout, not the global 30 s, bounds the wait");
        pilot.Output.ShouldContain("killing processes for job \"stubborn\"");
    }

    /// <summary>
    /// A job forks 1000 orphans that die at once; a later job counts zombies whose parent is Pilot. Run with Pilot
    /// as PID 1 of a new pid namespace (the runtime reaps) and as a plain process (Pilot is a child subreaper).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task OrphanStorm_LeavesNoZombies(bool asPid1)
    {
        // A thousand forks take seconds on a loaded 2-core machine; the bound is for a hang, not for speed.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "storm", exec: ["sh", "-c", "for i in $(seq 1000); do (sleep 0.01 &) ; done; echo storm-done"] },
                { name: "count", when: { source: "storm", once: "exitSuccess" },
                  exec: ["sh", "-c", "sleep 2; n=0; for s in /proc/[0-9]*/status; do if grep -q '^State:.*Z' $s 2>/dev/null && grep -q \"^PPid:[[:space:]]*$CONTAINERPILOT_PID\\$\" $s 2>/dev/null; then n=$((n+1)); fi; done; echo pid=$CONTAINERPILOT_PID zombies=$n"] },
              ],
            }
            """, wrapper: asPid1 ? ["unshare", "--fork", "--pid", "--mount-proc"] : null);

        var report = await pilot.WaitForLineAsync("zombies=", timeout.Token);

        report.ShouldEndWith("zombies=0", Case.Sensitive, pilot.Output);
        if (asPid1)
        {
            report.ShouldContain("pid=1 ");
        }
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }
}
