using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part A §2 (jobs): fields, validation, <c>when</c>, restarts, runs, health checks, stopping.</summary>
public sealed class JobsTests
{
    private const int SIGHUP = 1, SIGTERM = 15;

    private static int Count(RunningPilot pilot, string text) => pilot.Lines.Count(l => l.EndsWith(text, StringComparison.Ordinal));

    [Fact]
    public async Task JobValidation_KeepsV3sMessages_AndChecksServicesOnlyWithAPort()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("""
            {
              consul: "localhost:8500",
              jobs: [
                { name: "p0", exec: "true", port: 80, interfaces: ["static:10.0.0.1"] },
                { name: "h1", exec: "true", health: { interval: 0, ttl: 1 } },
                { name: "h2", exec: "true", health: { interval: 1 } },
                { name: "", exec: "true" },
                { name: "Bad_Name", exec: "true", port: 80, interfaces: ["static:10.0.0.1"], health: { interval: 1, ttl: 1 } },
                { name: "a", exec: "true", port: 80, interfaces: ["static:10.0.0.1"], health: { interval: 1, ttl: 1 } },
                { name: "s6", exec: "true", port: 80, interfaces: ["static:10.0.0.1"], health: { interval: 1, ttl: 1 }, initial_status: "great" },
                { name: "w7", exec: "true", when: { interval: "1s", each: "startup" } },
                { name: "w8", exec: "true", when: { source: "SIGHUP", once: "bogus" } },
                { name: "w9", exec: "true", when: { source: "w8", each: "exploded" } },
                { name: "r10", exec: "true", restarts: "always" },
                { name: "r11", exec: "true", restarts: -1 },
                { name: "r12", exec: "true", restarts: "-1" },
                { name: "r13", exec: "true", restarts: [1] },
                { name: "r14", exec: "true", restarts: "unlimited", when: { source: "SIGHUP", each: "startup" } },

                { name: "Any_Name.without-port", exec: "true", initial_status: "great" },
                { name: "containerpilot", exec: "true", port: 80, interfaces: ["static:10.0.0.1"] },
                { name: "twin", exec: "true", when: { source: "r19", once: "exitSuccess" } },
                { name: "twin", exec: "true", when: { source: "twin", once: "exitSuccess" } },
                { name: "r19", exec: "true", restarts: "unlimited", when: { source: "SIGHUP" } },
              ],
            }
            """, timeout.Token);

        outcome.ShouldReport("jobs[0]", "job[p0].health must be set if 'port' is set");
        outcome.ShouldReport("jobs[1].health.interval", "job[h1].health.interval must be > 0");
        outcome.ShouldReport("jobs[2].health.ttl", "job[h2].health.ttl must be > 0");
        outcome.ShouldReport("jobs[3].name", "'name' must not be blank");
        outcome.ShouldReport("jobs[4].name", "service names must be alphanumeric with dashes to comply with service discovery");
        outcome.ShouldReport("jobs[5].name", "service names must be alphanumeric with dashes to comply with service discovery");
        outcome.ShouldReport("jobs[6].initial_status", "job[s6].initialStatus must be one of 'passing', 'warning' or 'critical'");
        outcome.ShouldReport("jobs[7].when", "job[w7].when can have only one of 'interval', 'once', or 'each'");
        outcome.ShouldReport("jobs[8].when.once", "unable to parse job[w8].when.event: bogus is not a valid event code");
        outcome.ShouldReport("jobs[9].when.each", "unable to parse job[w9].when.event: exploded is not a valid event code");
        const string Forms = "accepts positive integers, \"unlimited\", or \"never\"";
        outcome.ShouldReport("jobs[10].restarts", $"job[r10].restarts field 'always' invalid: {Forms}");
        outcome.ShouldReport("jobs[11].restarts", "job[r11].restarts field '-1' invalid: number must be positive integer");
        outcome.ShouldReport("jobs[12].restarts", $"job[r12].restarts field '-1' invalid: {Forms}");
        outcome.ShouldReport("jobs[13].restarts", $"job[r13].restarts field '[1]' invalid: {Forms}");
        outcome.ShouldReport("jobs[14].restarts",
            "job[r14].restarts field 'unlimited' invalid: may not be used when 'job.when.each' is set because it may result in infinite processes");
        foreach (var accepted in new[] { "jobs[15]", "jobs[16]", "jobs[17]", "jobs[18]", "jobs[19]" })
        {
            outcome.Stdout.ShouldNotContain($"error: {accepted}");
        }
    }

    /// <summary>
    /// Triggers as v3 resolves them: no <c>when</c> = once at startup; <c>once</c>/<c>each</c> on a job's event; a signal
    /// source (its <c>once</c> ignored); <c>when.timeout</c> publishing <c>timerExpired</c> then halting (and disarmed by a start); and the traps
    /// that never start.
    /// </summary>
    [Fact]
    public async Task Triggers_StartJobsAsV3Does_AndTrapsNeverStart()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "keep", exec: "sleep 600" },
                { name: "plain", exec: "echo plain-ran" },
                { name: "after", exec: "echo after-ran", when: { source: "plain", once: "exitSuccess" } },
                { name: "trap-nosource", exec: "echo trap-ran", when: { once: "startup" } },
                { name: "trap-empty", exec: "echo trap-ran", when: {} },
                { name: "trap-sourceonly", exec: "echo trap-ran", when: { source: "plain" } },
                { name: "trap-shutdown", exec: "echo trap-ran", when: { source: "global", once: "shutdown" } },
                { name: "hup", exec: "echo hup-ran", when: { source: "SIGHUP", once: "startup" } },
                { name: "waiter", exec: "echo trap-ran", when: { source: "nobody", once: "exitSuccess", timeout: "2s" } },
                { name: "armed", exec: "sleep 600", when: { source: "global", once: "startup", timeout: "1s" } },
                { name: "on-armed-timeout", exec: "echo trap-ran", when: { source: "armed", once: "timerExpired" } },
                { name: "on-timeout", exec: "echo waiter-timed-out", when: { source: "waiter", once: "timerExpired" } },
                { name: "on-waiter-stopped", exec: "echo waiter-stopped", when: { source: "waiter", once: "stopped" } },
              ],
            }
            """);
        await pilot.WaitForLineAsync("after-ran", timeout.Token);
        await pilot.WaitForLineAsync("waiter-timed-out", timeout.Token);
        await pilot.WaitForLineAsync("waiter-stopped", timeout.Token);

        pilot.Signal(SIGHUP);
        await pilot.WaitForLineAsync("hup-ran", timeout.Token);
        pilot.Signal(SIGHUP);
        await pilot.WaitForLineAsync("hup-ran", timeout.Token, occurrences: 2);
        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        Count(pilot, "plain-ran").ShouldBe(1);
        Count(pilot, "hup-ran").ShouldBe(2, "a signal source starts the job on every signal, its `once` ignored");
        pilot.Lines.Where(l => l.EndsWith("trap-ran", StringComparison.Ordinal)).ShouldBeEmpty();
    }

    /// <summary>
    /// <c>restarts</c>: N gives N+1 runs; a start failure counts as <c>exitFailed</c> and uses a restart; the count is
    /// shared by every trigger of a signal job; a periodic job runs at startup and on each tick while restarts remain,
    /// then stops.
    /// </summary>
    [Fact]
    public async Task Restarts_AreCountedOverTheJobsLifetime_AndPeriodicJobsStopWhenOut()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "keep", exec: "sleep 600" },
                { name: "thrice", exec: "echo thrice-ran", restarts: 2 },
                { name: "nostart", exec: "/nonexistent/program", restarts: "2" },
                { name: "hup", exec: "echo hup-ran", when: { source: "SIGHUP" }, restarts: 1 },
                // 2 s: a tick with no restart left halts the job, SIGTERM to a run still alive (v3), so a run slower than
                // the interval on a loaded machine would be cut before its echo.
                { name: "tick", exec: "echo tick-ran", when: { interval: "2s" }, restarts: 1 },
                { name: "after-tick", exec: "echo tick-stopped", when: { source: "tick", once: "stopped" } },
              ],
            }
            """);
        await pilot.WaitForLineAsync("thrice-ran", timeout.Token, occurrences: 3);
        await pilot.WaitForLineAsync("tick-stopped", timeout.Token);
        await pilot.WaitForLineAsync("unable to start nostart", timeout.Token, occurrences: 3);

        pilot.Signal(SIGHUP);
        await pilot.WaitForLineAsync("hup-ran", timeout.Token, occurrences: 2);
        pilot.Signal(SIGHUP);
        await pilot.WaitForLineAsync("hup-ran", timeout.Token, occurrences: 3);
        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        Count(pilot, "thrice-ran").ShouldBe(3);
        pilot.Lines.Count(l => l.Contains("unable to start nostart: fork/exec /nonexistent/program: no such file or directory", StringComparison.Ordinal))
            .ShouldBe(3);
        Count(pilot, "tick-ran").ShouldBe(2, "restarts: 1 on a periodic job gives the startup run and one tick\n" + pilot.Output);
        Count(pilot, "hup-ran").ShouldBe(3, "the first SIGHUP gives a run and its one restart; the second only a run");
    }

    /// <summary>
    /// A run: no shell, the program found on PATH, Pilot's environment and working directory, its own process group;
    /// the group gets SIGTERM when the main process exits; a run timeout SIGKILLs it with v3's warning and
    /// reports <c>exitFailed</c>; v3's log lines for a run.
    /// </summary>
    [Fact]
    public async Task Run_IsTheCommandInItsOwnGroup_WithPilotsEnvironment_AndATimeoutKillsIt()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              logging: { level: "debug" },
              jobs: [
                { name: "keep", exec: "sleep 600" },
                { name: "env", exec: ["sh", "-c", "echo env pid=$$ pgrp=$(cut -d' ' -f5 /proc/$$/stat) cwd=$PWD foo=$FOO"] },
                { name: "leader", exec: ["sh", "-c", "sleep 600 & echo leftover=$!"] },
                { name: "slow", exec: "sleep 600", timeout: "500ms" },
                { name: "on-slow-failed", exec: "echo slow-failed", when: { source: "slow", once: "exitFailed" } },
                { name: "fails", exec: ["sh", "-c", "exit 3"] },
                { name: "missing", exec: "no-such-program-anywhere" },
              ],
            }
            """, environment: new Dictionary<string, string> { ["FOO"] = "from-pilot" });

        var env = await pilot.WaitForLineAsync(" env pid=", timeout.Token);
        var leftover = int.Parse((await pilot.WaitForLineAsync("leftover=", timeout.Token)).Split("leftover=")[1], System.Globalization.CultureInfo.InvariantCulture);
        await pilot.WaitForLineAsync("slow-failed", timeout.Token);
        await pilot.WaitForLineAsync("fails exited with error: exit status 3", timeout.Token);
        await pilot.WaitForLineAsync("env exited without error", timeout.Token);
        await pilot.WaitForLineAsync("unable to start missing: exec: \"no-such-program-anywhere\": executable file not found in $PATH", timeout.Token);
        using (var gone = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token))
        {
            gone.CancelAfter(TimeSpan.FromSeconds(20));
            while (Directory.Exists($"/proc/{leftover}"))
            {
                await Task.Delay(50, gone.Token);
            }
        }

        var fields = env.Split(' ').Select(f => f.Split('=')).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
        fields["pgrp"].ShouldBe(fields["pid"], "each run leads its own process group");
        fields["cwd"].ShouldBe(pilot.Directory);
        fields["foo"].ShouldBe("from-pilot");
        pilot.Output.ShouldContain("slow timeout after 500ms: 'sleep 600'");
        pilot.Output.ShouldContain("slow exited with error: signal: killed");
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    /// <summary>
    /// Health checks without a port: <c>healthy</c>/<c>unhealthy</c> on every result, the check's own exit events
    /// from <c>check.&lt;job&gt;</c>, a check timeout failing the check, and no check while the job never started.
    /// </summary>
    [Fact]
    public async Task HealthChecks_PublishEveryResult_WithoutAPort_AndNeverRunForAnIdleJob()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "app", exec: "sleep 600", health: { exec: ["sh", "-c", "! test -e DIR/fail"], interval: 1, ttl: 5 } },
                { name: "on-healthy", exec: "echo app-healthy", when: { source: "app", each: "healthy" } },
                { name: "on-unhealthy", exec: "echo app-unhealthy", when: { source: "app", each: "unhealthy" } },
                { name: "on-check-passed", exec: "echo check-exit-success", when: { source: "check.app", each: "exitSuccess" } },
                { name: "on-check-failed", exec: "echo check-exit-failed", when: { source: "check.app", each: "exitFailed" } },
                { name: "slowcheck", exec: "sleep 600", health: { exec: "sleep 600", interval: 1, ttl: 5, timeout: "500ms" } },
                { name: "on-slow", exec: "echo slowcheck-unhealthy", when: { source: "slowcheck", once: "unhealthy" } },
                { name: "idle", exec: "sleep 600", when: { source: "SIGUSR2" }, health: { exec: "echo idle-check-ran", interval: 1, ttl: 5 } },
              ],
            }
            """);

        await pilot.WaitForLineAsync("app-healthy", timeout.Token, occurrences: 2);
        await pilot.WaitForLineAsync("check-exit-success", timeout.Token, occurrences: 2);
        File.WriteAllText(Path.Combine(pilot.Directory, "fail"), "");
        await pilot.WaitForLineAsync("app-unhealthy", timeout.Token, occurrences: 2);
        await pilot.WaitForLineAsync("check-exit-failed", timeout.Token, occurrences: 2);
        await pilot.WaitForLineAsync("slowcheck-unhealthy", timeout.Token);
        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldNotContain("idle-check-ran");
    }

    /// <summary>
    /// Stopping: a job waits for the jobs its <c>stopping</c> starts before it stops (Pilot: every one of them; v3 only
    /// the last in the file), and its <c>stopTimeout</c> bounds that wait (v3's timer never fired).
    /// </summary>
    [Fact]
    public async Task Stopping_WaitsForEveryPreStopJob_AndStopTimeoutBoundsTheWait()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              stopTimeout: 3,
              jobs: [
                { name: "app", exec: ["sh", "-c", "trap 'echo app-term; exit 0' TERM; echo app-up; while true; do sleep 0.1; done"] },
                { name: "pre-slow", exec: ["sh", "-c", "sleep 1; echo pre-slow-done"], when: { source: "app", once: "stopping" } },
                { name: "pre-fast", exec: "echo pre-fast-done", when: { source: "app", once: "stopping" } },
                { name: "bounded", stopTimeout: "1s", exec: ["sh", "-c", "trap 'echo bounded-term; exit 0' TERM; echo bounded-up; while true; do sleep 0.1; done"] },
                { name: "pre-stuck", exec: "sleep 600", when: { source: "bounded", once: "stopping" } },
              ],
            }
            """);
        await pilot.WaitForLineAsync("app-up", timeout.Token);
        await pilot.WaitForLineAsync("bounded-up", timeout.Token);

        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        var lines = pilot.Lines.ToList();
        int Index(string text) => lines.FindIndex(l => l.EndsWith(text, StringComparison.Ordinal));
        Index("pre-slow-done").ShouldBeGreaterThan(-1, pilot.Output);
        Index("pre-slow-done").ShouldBeLessThan(Index("app-term"), pilot.Output);
        Index("pre-fast-done").ShouldBeLessThan(Index("app-term"), pilot.Output);
        Index("bounded-term").ShouldBeGreaterThan(-1, "bounded's stopTimeout ends its wait for pre-stuck\n" + pilot.Output);
        pilot.Output.ShouldContain("job bounded: stopTimeout reached while waiting for pre-stuck");
    }
}
