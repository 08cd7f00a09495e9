using System.Diagnostics;
using System.Net;
using Pilot.Api.Tests.Support;
using Pilot.ConsulTestAgent;
using Shouldly;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Api.Tests.Discovery;

/// <summary>The real <c>pilot</c> against a Consul agent that accepts requests and never answers them.</summary>
public sealed class ConsulFaultTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly string ServiceId = "app-" + Dns.GetHostName();
    private static readonly string CheckPath = $"/v1/agent/check/update/service:{ServiceId}";

    private static string Config(TestAgent agent, int ttl, string extra = "") => $$"""
        {
          consul: "{{agent.HttpAddress}}",
          control: { socket: "SOCKET" },
          {{extra}}
          jobs: [
            {
              name: "app",
              exec: ["sleep", "600"],
              port: 8080,
              interfaces: ["static:10.1.2.3"],
              health: { exec: "true", interval: 1, ttl: {{ttl}} },
            },
          ],
        }
        """;

    private static async Task HangAsync(TestAgent agent)
    {
        var before = agent.Requests.Length;
        agent.Fault = AgentFault.Hang;
        await agent.WaitForRequestAsync(r => r.Path == CheckPath && agent.Requests.IndexOf(r) >= before, Wait);
    }

    [Fact]
    public async Task Shutdown_EndsWithinStopTimeout_WhenConsulHangs()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        // TTL 20 s: each Consul call may take 10 s, five times the 2 s stop window.
        await using var pilot = RunningPilot.Start(Config(agent, ttl: 20, extra: "stopTimeout: 2,"));
        await agent.WaitUntilAsync(() => agent.State.GetCheck($"service:{ServiceId}")?.Status == "passing", Wait, "passing");
        await HangAsync(agent);
        var stopping = Stopwatch.StartNew();

        pilot.Signal(15);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        stopping.Stop();
        // Bounded by the 2 s window plus Pilot's own exit work; a Consul call waited out would take 10 s.
        stopping.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5), pilot.Output);
        agent.Requests.ShouldContain(r => r.Path == $"/v1/agent/service/deregister/{ServiceId}", "the deregistration was attempted");
        TestContext.Current.TestOutputHelper?.WriteLine($"exit {stopping.Elapsed.TotalSeconds:0.00} s after SIGTERM (stopTimeout 2 s, Consul hanging)");
    }

    [Fact]
    public async Task Heartbeat_AfterAHungAgentRecovers_DoesNotWaitBehindTheStuckCall()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        // TTL 6 s as in the report: a call may take 3 s; heartbeats every second.
        await using var pilot = RunningPilot.Start(Config(agent, ttl: 6));
        await agent.WaitUntilAsync(() => agent.State.GetCheck($"service:{ServiceId}")?.Status == "passing", Wait, "passing");
        await HangAsync(agent);
        // The hang lasts a few heartbeats (each one a second apart, and each cancels the one stuck before it): longer
        // than a call's 3 s, so a heartbeat queued behind a stuck call would show below.
        var hangStarted = agent.Requests.Length;
        await agent.WaitUntilAsync(() => agent.Requests.Skip(hangStarted).Count(r => r.Path == CheckPath) >= 4, Wait, "four heartbeats into the hang");

        agent.Fault = AgentFault.None;
        var recovered = DateTimeOffset.UtcNow;
        var next = await agent.WaitForRequestAsync(r => r.Path == CheckPath && r.At > recovered, Wait);

        var gap = next.At - recovered;
        TestContext.Current.TestOutputHelper?.WriteLine($"first heartbeat {gap.TotalSeconds:0.00} s after the agent recovered");
        // One heartbeat interval (1 s) plus the check's run; behind a stuck call it would be up to the call's 3 s.
        gap.ShouldBeLessThan(TimeSpan.FromSeconds(2.5), pilot.Output);
        await agent.WaitUntilAsync(() => agent.State.GetCheck($"service:{ServiceId}")?.Status == "passing", Wait, "passing again");
    }
}
