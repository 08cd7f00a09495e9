using System.Net;
using System.Text.Json;
using Pilot.Api.Tests.Support;
using Shouldly;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part B §2 (service registration, heartbeats, deregistration) against the Consul test agent.</summary>
public sealed class ServiceRegistrationTests
{
    private const int SIGTERM = 15;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly string Host = Dns.GetHostName();

    /// <summary>
    /// With <c>initial_status</c> the service is registered when the job's loop starts, whatever its <c>when</c>
    /// (this job never starts), with that status; while the agent is down the attempt is repeated until it answers.
    /// </summary>
    [Fact]
    public async Task InitialStatus_RegistersBeforeStartup_AndRetriesUntilTheAgentAnswers()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        await agent.GoDownAsync();
        await using var pilot = RunningPilot.Start($$"""
            {
              consul: "{{agent.HttpAddress}}",
              control: { socket: "SOCKET" },
              jobs: [
                { name: "app", exec: "sleep 600", when: { source: "SIGHUP" }, port: 8080, interfaces: ["static:10.0.0.7"],
                  initial_status: "warning", health: { exec: "true", interval: 1, ttl: 5 } },
              ],
            }
            """);
        await pilot.WaitForLineAsync("Registering service app with initial status set to warning", timeout.Token);
        await pilot.WaitForLineAsync("service registration failed: ", timeout.Token);

        await agent.ComeUpAsync(timeout.Token);

        var register = await agent.WaitForRequestAsync(r => r.Path == "/v1/agent/service/register", Wait);
        await pilot.WaitForLineAsync("Service registered: app", timeout.Token);
        using var body = JsonDocument.Parse(register.Body);
        body.RootElement.GetProperty("Check").GetProperty("Status").GetString().ShouldBe("warning");
        agent.State.GetCheck($"service:app-{Host}")!.Status.ShouldBe("warning", "the job never started, so no heartbeat changed it");
    }

    /// <summary>
    /// <c>health</c> without <c>exec</c> heartbeats on every interval and publishes no events; each service job's
    /// address is in <c>CONTAINERPILOT_&lt;NAME&gt;_IP</c> (telemetry's too) for every job from the start.
    /// </summary>
    [Fact]
    public async Task ServiceWithoutHealthExec_HeartbeatsUnconditionally_AndItsIpIsInTheEnvironment()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        var port = LoopbackPort.Free();
        await using var pilot = RunningPilot.Start($$"""
            {
              consul: "{{agent.HttpAddress}}",
              control: { socket: "SOCKET" },
              telemetry: { port: {{port}}, interfaces: ["static:127.0.0.1"] },
              jobs: [
                { name: "my-app", exec: "sleep 600", port: 8080, interfaces: ["static:10.0.0.8"], health: { interval: 1, ttl: 5 } },
                { name: "on-healthy", exec: "echo healthy-event", when: { source: "my-app", each: "healthy" } },
                { name: "show", exec: ["sh", "-c", "echo ips app=$CONTAINERPILOT_MY_APP_IP telemetry=$CONTAINERPILOT_CONTAINERPILOT_IP"] },
              ],
            }
            """);

        var ips = await pilot.WaitForLineAsync(" ips app=", timeout.Token);
        var id = $"my-app-{Host}";
        await agent.WaitUntilAsync(() => agent.Requests.Count(r => r.Path == $"/v1/agent/check/update/service:{id}") >= 2, Wait, "two heartbeats");

        ips.ShouldEndWith("ips app=10.0.0.8 telemetry=127.0.0.1");
        agent.State.GetCheck($"service:{id}")!.Status.ShouldBe("passing");
        pilot.Output.ShouldNotContain("healthy-event");
    }

    /// <summary>
    /// Deregistration is sent when a service job stops: after the job's pre-stop job has run and before its
    /// <c>stopped</c>; also for a service that was never registered (its check never passed).
    /// </summary>
    [Fact]
    public async Task Deregistration_ComesAfterPreStopAndBeforeStopped_EvenIfNeverRegistered()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        await using var pilot = RunningPilot.Start($$"""
            {
              consul: "{{agent.HttpAddress}}",
              control: { socket: "SOCKET" },
              jobs: [
                { name: "app", exec: "sleep 600", port: 8080, interfaces: ["static:10.0.0.9"], health: { exec: "true", interval: 1, ttl: 5 } },
                { name: "pre-stop", exec: ["sh", "-c", "sleep 0.5; touch DIR/pre-stop-done"], when: { source: "app", once: "stopping" } },
                { name: "post-stop", exec: ["touch", "DIR/post-stop-done"], when: { source: "app", once: "stopped" } },
                { name: "never", exec: "sleep 600", port: 8081, interfaces: ["static:10.0.0.9"], health: { exec: "false", interval: 1, ttl: 5 } },
              ],
            }
            """);
        await agent.WaitUntilAsync(() => agent.State.GetService($"app-{Host}") is not null, Wait, "app registered");

        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        var deregister = agent.Requests.Single(r => r.Path == $"/v1/agent/service/deregister/app-{Host}");
        deregister.Method.ShouldBe("PUT");
        deregister.Body.ShouldBeEmpty();
        // File times come from the kernel's coarse clock (one tick, up to 10 ms, behind the fine one the agent stamps
        // requests with): compare with that tick of slack, or a fast run shows the same instant on both sides.
        var tick = TimeSpan.FromMilliseconds(10);
        deregister.At.ShouldBeGreaterThan(new DateTimeOffset(File.GetLastWriteTimeUtc(Path.Combine(pilot.Directory, "pre-stop-done"))) - tick);
        deregister.At.ShouldBeLessThan(new DateTimeOffset(File.GetLastWriteTimeUtc(Path.Combine(pilot.Directory, "post-stop-done"))) + tick);
        agent.Requests.ShouldNotContain(r => r.Path == "/v1/agent/service/register" && r.Body.Contains("\"never\"", StringComparison.Ordinal));
        agent.Requests.ShouldContain(r => r.Path == $"/v1/agent/service/deregister/never-{Host}");
    }

    [Fact]
    public async Task Service_WithoutConsul_RunsUnregisteredWithOneWarning()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "app", exec: ["sh", "-c", "echo app-up; exec sleep 600"], port: 8080, interfaces: ["static:10.0.0.1"], health: { exec: "true", interval: 1, ttl: 5 } },
                { name: "on-healthy", exec: "echo checked", when: { source: "app", once: "healthy" } },
              ],
            }
            """);

        await pilot.WaitForLineAsync("checked", timeout.Token);
        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Lines.Count(l => l.Contains("no consul configured: jobs with a port are not registered", StringComparison.Ordinal)).ShouldBe(1);
    }
}
