using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Images;

/// <summary>
/// The shipped static binary as PID 1 in a <c>FROM scratch</c> root: nothing but <c>/bin/pilot</c> and one static job
/// program (<c>/busybox</c>, static, run by applet name). No shell, no accounts, no resolver files.
/// </summary>
public sealed class ScratchRootTests
{
    private const int SIGTERM = 15;

    [Fact]
    public async Task StaticPilot_InAScratchRoot_RunsJobsChecksAndClients()
    {
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(2));
        using var root = ImageRoot.Scratch();
        root.Write("/www/health", "ok\n");
        var webPort = LoopbackPort.Free();
        var telemetryPort = LoopbackPort.Free();
        await using var pilot = await RootedPilot.StartAsync(root, $$"""
            {
              control: { socket: "/pilot.sock" },
              telemetry: { port: {{telemetryPort}}, interfaces: ["static:127.0.0.1"] },
              jobs: [
                { name: "web", exec: ["/busybox", "httpd", "-f", "-p", "127.0.0.1:{{webPort}}", "-h", "/www"],
                  health: { http: "http://127.0.0.1:{{webPort}}/health", interval: 1, ttl: 5 } },
                { name: "tcp-checked", exec: ["/busybox", "sleep", "600"], health: { tcp: "127.0.0.1:{{webPort}}", interval: 1, ttl: 5 } },
                { name: "exec-checked", exec: ["/busybox", "sleep", "600"], health: { exec: ["/busybox", "true"], interval: 1, ttl: 5 } },
                { name: "after-checks", exec: ["/busybox", "echo", "all-healthy"], when: { source: "exec-checked", once: "healthy" } },
              ],
            }
            """, timeout.Token);

        await pilot.WaitForLineAsync("all-healthy", timeout.Token);
        var lastStatus = "";
        await NoGlibcRootTests.WaitUntilAsync(async () =>
        {
            var status = await pilot.ClientAsync(timeout.Token, "status");
            lastStatus = status.Output;
            var rows = status.Stdout.Split('\n');
            return ((string[])["web ", "tcp-checked ", "exec-checked "]).All(job =>
                rows.Any(r => r.StartsWith(job, StringComparison.Ordinal) && r.Contains(" healthy ", StringComparison.Ordinal)));
        }, () => $"three healthy jobs in `pilot status`; last:\n{lastStatus}", timeout.Token);
        (await pilot.ClientAsync(timeout.Token, "-ping")).Stdout.Trim().ShouldBe("ok");
        (await pilot.ClientAsync(timeout.Token, "logs", "after-checks")).Stdout.ShouldContain("all-healthy");
        using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{telemetryPort}") })
        {
            (await http.GetStringAsync("/metrics", timeout.Token)).ShouldContain("containerpilot_events");
        }

        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    /// <summary>A root a runtime gave neither <c>/proc</c> nor <c>/dev</c>: Pilot still runs its jobs and stops cleanly.</summary>
    [Fact]
    public async Task StaticPilot_WithoutProcOrDev_RunsJobsAndExitsCleanly()
    {
        using var timeout = PilotProcess.Timeout();
        using var root = ImageRoot.Scratch(mountsProc: false, mountsDev: false);
        await using var pilot = await RootedPilot.StartAsync(root, """
            {
              logging: { level: "DEBUG" },
              control: { socket: "/pilot.sock" },
              jobs: [
                { name: "app", exec: ["/busybox", "sleep", "600"], health: { exec: ["/busybox", "true"], interval: 1, ttl: 5 } },
                { name: "after", exec: ["/busybox", "echo", "app-healthy"], when: { source: "app", once: "healthy" } },
              ],
            }
            """, timeout.Token);

        await pilot.WaitForLineAsync("app-healthy", timeout.Token);
        (await pilot.ClientAsync(timeout.Token, "-ping")).Stdout.Trim().ShouldBe("ok");
        // The third check, two intervals on: past the moment (1 s after start) Pilot releases its start-up pages, which
        // reads /proc/self/smaps.
        await pilot.WaitForLineAsync("event: {ExitSuccess check.app}", timeout.Token, occurrences: 3);

        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldNotContain("Unhandled exception");
    }
}
