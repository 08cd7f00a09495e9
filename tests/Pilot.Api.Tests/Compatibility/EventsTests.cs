using System.Net;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part A §3 (events): codes, sources, who publishes them, and what is counted.</summary>
public sealed class EventsTests
{
    private const int SIGHUP = 1, SIGTERM = 15;

    /// <summary>
    /// Jobs triggered by v3's event sources — an <c>error</c> whose source is the error text, <c>startup</c>,
    /// <c>enterMaintenance</c> on every request, <c>exitMaintenance</c> — and <c>containerpilot_events</c> counting
    /// every published event by v3's code name, but neither metric events, internal timers nor <c>quit</c>.
    /// </summary>
    [Fact]
    public async Task Events_ReachJobsWithV3sCodesAndSources_AndAreCountedExceptMetricsTimersAndQuit()
    {
        using var timeout = PilotProcess.Timeout();
        var port = LoopbackPort.Free();
        await using var pilot = RunningPilot.Start($$"""
            {
              control: { socket: "SOCKET" },
              logging: { level: "debug" },
              telemetry: { port: {{port}}, interfaces: ["static:127.0.0.1"], metrics: [ { name: "m", help: "h", type: "gauge" } ] },
              jobs: [
                { name: "keep", exec: "sleep 600", health: { exec: "true", interval: 1, ttl: 5 } },
                { name: "fails", exec: ["sh", "-c", "exit 3"] },
                { name: "on-error", exec: "echo error-event-seen", when: { source: "fails: exit status 3", once: "error" } },
                { name: "nostart", exec: "/nonexistent/program" },
                { name: "on-start-error", exec: "echo start-error-seen",
                  when: { source: "fork/exec /nonexistent/program: no such file or directory", once: "error" } },
                { name: "on-startup", exec: "echo startup-seen", when: { source: "global", once: "startup" } },
                { name: "on-maint", exec: "echo maintenance-entered", when: { source: "global", each: "enterMaintenance" } },
                { name: "on-unmaint", exec: "echo maintenance-left", when: { source: "global", once: "exitMaintenance" } },
                { name: "on-hup", exec: "echo hup-seen", when: { source: "SIGHUP", each: "SIGHUP" } },
                { name: "waiter", exec: "true", when: { source: "nobody", once: "exitSuccess", timeout: "1s" } },
                { name: "on-waiter-stopped", exec: "echo waiter-stopped", when: { source: "waiter", once: "stopped" } },
              ],
            }
            """);
        await pilot.WaitForLineAsync("error-event-seen", timeout.Token);
        await pilot.WaitForLineAsync("start-error-seen", timeout.Token);
        await pilot.WaitForLineAsync("startup-seen", timeout.Token);
        await pilot.WaitForLineAsync("waiter-stopped", timeout.Token);
        using var client = pilot.CreateClient();

        (await client.PostAsync("/v3/maintenance/enable", null, timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await pilot.WaitForLineAsync("maintenance-entered", timeout.Token);
        (await client.PostAsync("/v3/maintenance/enable", null, timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await pilot.WaitForLineAsync("maintenance-entered", timeout.Token, occurrences: 2);
        (await client.PostAsync("/v3/maintenance/disable", null, timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await pilot.WaitForLineAsync("maintenance-left", timeout.Token);
        (await client.PostAsync("/v3/metric", Http.Json("""{"__m": 2.0}"""), timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        pilot.Signal(SIGHUP);
        await pilot.WaitForLineAsync("hup-seen", timeout.Token);
        await pilot.WaitForLineAsync("event: {Metric __m|2}", timeout.Token);
        await pilot.WaitForLineAsync("event: {StatusHealthy keep}", timeout.Token);
        await LoopbackPort.WaitUntilListenedOnAsync(port, timeout.Token);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var metrics = await http.GetStringAsync("/metrics", timeout.Token);

        metrics.ShouldContain("containerpilot_events{code=\"Startup\",source=\"global\"} 1");
        metrics.ShouldContain("containerpilot_events{code=\"ExitFailed\",source=\"fails\"} 1");
        metrics.ShouldContain("containerpilot_events{code=\"Error\",source=\"fails: exit status 3\"} 1");
        metrics.ShouldContain("containerpilot_events{code=\"Error\",source=\"fork/exec /nonexistent/program: no such file or directory\"} 1");
        metrics.ShouldContain("containerpilot_events{code=\"EnterMaintenance\",source=\"global\"} 2");
        metrics.ShouldContain("containerpilot_events{code=\"ExitMaintenance\",source=\"global\"} 1");
        metrics.ShouldContain("containerpilot_events{code=\"Signal\",source=\"SIGHUP\"} 1");
        metrics.ShouldContain("containerpilot_events{code=\"StatusHealthy\",source=\"keep\"}");
        metrics.ShouldContain("containerpilot_events{code=\"ExitSuccess\",source=\"check.keep\"}");
        metrics.ShouldContain("containerpilot_events{code=\"Stopped\",source=\"fails\"} 1");
        metrics.ShouldNotContain("code=\"Metric\"");
        metrics.ShouldContain("containerpilot_events{code=\"TimerExpired\",source=\"waiter\"} 1");
        metrics.ShouldNotContain(".heartbeat\"", customMessage: "internal timers go to their owner only");
        metrics.ShouldNotContain(".wait-timeout\"");
        metrics.ShouldNotContain("code=\"Quit\"", customMessage: "quit is sent to the job itself, never published");
        pilot.Output.ShouldContain("event: {Error fails: exit status 3}", customMessage: "v3's debug line for an event");
        pilot.Output.ShouldContain("event: {StatusHealthy keep}");

        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }
}
