using System.Net;
using System.Text.Json;
using Pilot.Api.Tests.Support;
using Pilot.ConsulTestAgent;
using Shouldly;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Api.Tests.Discovery;

/// <summary>The real <c>pilot</c> binary against the Consul-API test agent over real HTTP.</summary>
public sealed class ConsulRegistrationTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly string ServiceId = "app-" + Dns.GetHostName();

    private static string AppConfig(TestAgent agent, string check = "true", string extra = "") => $$"""
        {
          consul: "{{agent.HttpAddress}}",
          control: { socket: "SOCKET" },
          jobs: [
            {
              name: "app",
              exec: ["sh", "-c", "echo app-up; exec sleep 600"],
              port: 8080,
              interfaces: ["static:10.1.2.3"],
              tags: ["web", "v1"],
              health: { exec: ["sh", "-c", "{{check}}"], interval: 1, ttl: 3 },
              {{extra}}
            },
          ],
        }
        """;

    [Fact]
    public async Task Service_IsRegisteredWithV3Payload_AndHeartbeated_AndDeregisteredOnSigterm()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        await using var pilot = RunningPilot.Start(AppConfig(agent, extra: "consul: { enableTagOverride: true, deregisterCriticalServiceAfter: \"10m\" },"));

        var register = await agent.WaitForRequestAsync(r => r.Path == "/v1/agent/service/register", Wait);
        var heartbeat = await agent.WaitForRequestAsync(r => r.Path == $"/v1/agent/check/update/service:{ServiceId}", Wait);

        using (var body = JsonDocument.Parse(register.Body))
        {
            var root = body.RootElement;
            root.GetProperty("ID").GetString().ShouldBe(ServiceId);
            root.GetProperty("Name").GetString().ShouldBe("app");
            root.GetProperty("Port").GetInt32().ShouldBe(8080);
            root.GetProperty("Address").GetString().ShouldBe("10.1.2.3");
            root.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()).ShouldBe(["web", "v1"]);
            root.GetProperty("EnableTagOverride").GetBoolean().ShouldBeTrue();
            var check = root.GetProperty("Check");
            check.GetProperty("TTL").GetString().ShouldBe("3s");
            check.GetProperty("Status").GetString().ShouldBe("passing");
            check.GetProperty("Notes").GetString().ShouldBe("TTL for app set by containerpilot");
            check.GetProperty("DeregisterCriticalServiceAfter").GetString().ShouldBe("10m");
        }
        heartbeat.Body.ShouldBe("""{"Status":"passing","Output":"ok"}""" + "\n", "Go's json.Encoder, as v3 sends it");
        agent.State.GetCheck($"service:{ServiceId}")!.Status.ShouldBe("passing");

        pilot.Signal(15);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        agent.Requests.ShouldContain(r => r.Path == $"/v1/agent/service/deregister/{ServiceId}");
        agent.State.GetService(ServiceId).ShouldBeNull();
    }

    [Fact]
    public async Task Telemetry_IsRegisteredAsTheContainerpilotService_WithV3sTtlAndVersionTag()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        using var portProbe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        portProbe.Start();
        var port = ((IPEndPoint)portProbe.LocalEndpoint).Port;
        portProbe.Stop();
        await using var pilot = RunningPilot.Start($$"""
            {
              consul: "{{agent.HttpAddress}}",
              control: { socket: "SOCKET" },
              telemetry: { port: {{port}}, interfaces: ["static:127.0.0.1"], tags: ["metrics"] },
              jobs: [ { name: "idle", exec: "sleep 600" } ],
            }
            """);
        var id = "containerpilot-" + Dns.GetHostName();

        var register = await agent.WaitForRequestAsync(r => r.Path == "/v1/agent/service/register", Wait);

        using var body = JsonDocument.Parse(register.Body);
        body.RootElement.GetProperty("ID").GetString().ShouldBe(id);
        body.RootElement.GetProperty("Port").GetInt32().ShouldBe(port);
        body.RootElement.GetProperty("Address").GetString().ShouldBe("127.0.0.1");
        body.RootElement.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()).First().ShouldBe("metrics");
        body.RootElement.GetProperty("Tags").GetArrayLength().ShouldBe(2, "the version is appended");
        body.RootElement.GetProperty("Check").GetProperty("TTL").GetString().ShouldBe("15s");
        await agent.WaitUntilAsync(() => agent.State.GetCheck($"service:{id}")?.Status == "passing", Wait, "telemetry heartbeat");
    }

    [Fact]
    public async Task Check_TurnsCritical_WhenHealthCheckStartsFailing()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        await using var pilot = RunningPilot.Start(AppConfig(agent, check: "test ! -e DIR/fail"));
        await agent.WaitUntilAsync(() => agent.State.GetCheck($"service:{ServiceId}")?.Status == "passing", Wait, "check passing");

        File.WriteAllText(Path.Combine(pilot.Directory, "fail"), "");

        // No heartbeat any more: the agent's TTL (3 s) runs out.
        await agent.WaitUntilAsync(() => agent.State.GetCheck($"service:{ServiceId}")?.Status == "critical", Wait, "check critical");
        File.Delete(Path.Combine(pilot.Directory, "fail"));
        await agent.WaitUntilAsync(() => agent.State.GetCheck($"service:{ServiceId}")?.Status == "passing", Wait, "check passing again");
    }

    [Fact]
    public async Task HttpCheck_SendsTtlHeartbeatsWhilePassing_AndLetsTheTtlExpireWhenTheServerStops()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        using var server = new TinyHttpServer();
        await using var pilot = RunningPilot.Start(AppConfig(agent).Replace("""exec: ["sh", "-c", "true"]""", $"http: \"{server.Url}\"", StringComparison.Ordinal));

        var register = await agent.WaitForRequestAsync(r => r.Path == "/v1/agent/service/register", Wait);
        var heartbeat = await agent.WaitForRequestAsync(r => r.Path == $"/v1/agent/check/update/service:{ServiceId}", Wait);

        using (var body = JsonDocument.Parse(register.Body))
        {
            body.RootElement.GetProperty("Check").GetProperty("TTL").GetString().ShouldBe("3s", "the TTL check v3 registers, whatever runs the check");
        }
        heartbeat.Body.ShouldBe("""{"Status":"passing","Output":"ok"}""" + "\n");
        server.Stop();

        // No heartbeat any more: the agent's TTL (3 s) runs out, as with a failing exec check.
        await agent.WaitUntilAsync(() => agent.State.GetCheck($"service:{ServiceId}")?.Status == "critical", Wait, "check critical");
    }

    [Fact]
    public async Task Maintenance_DeregistersThenRegistersAgain()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        await using var pilot = RunningPilot.Start(AppConfig(agent));
        await agent.WaitUntilAsync(() => agent.State.GetService(ServiceId) is not null, Wait, "registered");
        using var client = pilot.CreateClient();

        (await client.PostAsync("/v3/maintenance/enable", null, timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await agent.WaitUntilAsync(() => agent.State.GetService(ServiceId) is null, Wait, "deregistered in maintenance");
        (await client.PostAsync("/v3/maintenance/disable", null, timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        await agent.WaitUntilAsync(() => agent.State.GetCheck($"service:{ServiceId}")?.Status == "passing", Wait, "registered again");
    }

    [Fact]
    public async Task AgentRestartLosingState_IsRepaired_AndAnOutageDoesNotStopJobs()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        await using var pilot = RunningPilot.Start(AppConfig(agent, check: "echo check-tick"));
        await agent.WaitUntilAsync(() => agent.State.GetService(ServiceId) is not null, Wait, "registered");

        await agent.GoDownAsync();
        // An outage of a few heartbeats: each passing check (it prints check-tick) sends one the agent cannot take.
        var ticks = pilot.Lines.Count(l => l.Contains("check-tick", StringComparison.Ordinal));
        await pilot.WaitForLineAsync("check-tick", timeout.Token, occurrences: ticks + 3);
        agent.RestartEmpty();
        await agent.ComeUpAsync(timeout.Token);

        await agent.WaitUntilAsync(() => agent.State.GetCheck($"service:{ServiceId}")?.Status == "passing", Wait, "registered again after the agent lost it");
        pilot.Output.ShouldNotContain("Unhandled exception");
        using var client = pilot.CreateClient();
        (await client.GetAsync("/v3/ping", timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Watch_FiresChanged_WhenAppScalesUpAndDown_LongBeforeTheInterval()
    {
        // Four Pilots start and two stop in this test: a longer bound than one Pilot's.
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(2));
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        await using var front = RunningPilot.Start($$"""
            {
              consul: "{{agent.HttpAddress}}",
              control: { socket: "SOCKET" },
              watches: [ { name: "app", interval: 60 } ],
              jobs: [
                { name: "keepalive", exec: "sleep 600" },
                { name: "reconfigure", exec: ["sh", "-c", "echo app-changed"], when: { source: "watch.app", each: "changed" } },
              ],
            }
            """);
        await front.WaitForSocketAsync(timeout.Token);
        var apps = new List<RunningPilot>();
        try
        {
            // Each app instance is a Pilot in its own UTS namespace, so its service ID (app-<hostname>) is its own.
            for (var i = 1; i <= 3; i++)
            {
                apps.Add(RunningPilot.Start(AppConfig(agent), wrapper: ["unshare", "--uts", "sh", "-c", $"hostname app-host-{i} && exec \"$0\" \"$@\""]));
                await front.WaitForLineAsync("app-changed", timeout.Token, occurrences: i);
            }
            var changesBefore = front.Lines.Count(l => l.Contains("app-changed", StringComparison.Ordinal));
            var scaledDown = DateTime.UtcNow;
            foreach (var app in apps.Skip(1))
            {
                app.Signal(15);
                await app.WaitForExitAsync(timeout.Token);
            }
            await agent.WaitUntilAsync(() => agent.State.Services.Count(s => s.Name == "app") == 1, Wait, "one app left");
            // Two deregistrations close together may reach the watch as one change or two.
            await front.WaitForLineAsync("app-changed", timeout.Token, occurrences: changesBefore + 1);

            // The watch interval is 60 s: seeing the change this soon means a blocking query delivered it.
            (DateTime.UtcNow - scaledDown).ShouldBeLessThan(TimeSpan.FromSeconds(30));
        }
        finally
        {
            foreach (var app in apps)
            {
                await app.DisposeAsync();
            }
        }
    }
}
