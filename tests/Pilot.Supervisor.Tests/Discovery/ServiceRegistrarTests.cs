using Pilot.ConsulTestAgent;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Discovery;
using Shouldly;
using Xunit;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Supervisor.Tests.Discovery;

public sealed class ServiceRegistrarTests
{
    private static readonly TimeSpan Timeout = ConsulTestSupport.Timeout;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Backoff Fast = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(400));

    private static ServiceDefinition App(string? initialStatus = null, string dereg = "") => ServiceDefinition.FromJob(
        new JobConfig
        {
            Name = "app",
            Port = 8080,
            Tags = ["web"],
            InitialStatus = initialStatus,
            Health = new HealthConfig { Interval = TimeSpan.FromSeconds(5), TtlSeconds = 10 },
            Consul = dereg.Length > 0 ? new JobConsulConfig { DeregisterCriticalServiceAfter = dereg } : null,
        },
        address: "10.0.0.5",
        hostname: "host1");

    private static int Registrations(TestAgent agent) => agent.Requests.Count(r => r.Path == "/v1/agent/service/register");

    [Fact]
    public void ServiceDefinition_FromJob_BuildsV3IdentityAndCheck()
    {
        var reg = App(dereg: "90s").ToRegistration("passing");
        reg.Id.ShouldBe("app-host1");
        reg.Check!.ShouldBe(new Pilot.Supervisor.Discovery.Consul.ServiceCheck
        {
            Ttl = "10s",
            Status = "passing",
            Notes = "TTL for app set by containerpilot",
            DeregisterCriticalServiceAfter = "90s",
        });
        App().CheckId.ShouldBe("service:app-host1");
        ServiceDefinition.ForTelemetry(new TelemetryConfig { Port = 9090, Tags = ["a"] }, "10.0.0.5", "3.8.0", "h")
            .ShouldSatisfyAllConditions(
                t => t.Id.ShouldBe("containerpilot-h"),
                t => t.TtlSeconds.ShouldBe(15),
                t => t.Tags.ShouldBe(["a", "3.8.0"]));
    }

    [Fact]
    public async Task ServiceRegistrar_Heartbeat_RegistersPassingThenUpdatesTtl()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        await using var registrar = new ServiceRegistrar(App(), client, new CapturingLogger());

        (await registrar.HeartbeatAsync(Ct)).ShouldBeTrue();
        registrar.IsRegistered.ShouldBeTrue();
        agent.Requests.Select(r => r.Path).ShouldBe(["/v1/agent/service/register", "/v1/agent/check/update/service:app-host1"]);
        agent.Requests[0].Body.ShouldContain("\"Status\":\"passing\"");
        agent.Requests[1].Body.ShouldBe("{\"Status\":\"passing\",\"Output\":\"ok\"}\n");
        agent.State.GetCheck("service:app-host1")!.ShouldSatisfyAllConditions(c => c.Status.ShouldBe("passing"), c => c.Output.ShouldBe("ok"));

        (await registrar.HeartbeatAsync(Ct)).ShouldBeTrue();
        Registrations(agent).ShouldBe(1);
    }

    [Theory]
    [InlineData("warning")]
    [InlineData("critical")]
    [InlineData("passing")]
    public async Task ServiceRegistrar_Register_UsesInitialStatus(string status)
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        var logger = new CapturingLogger();
        await using var registrar = new ServiceRegistrar(App(status), client, logger);

        (await registrar.RegisterAsync(Ct)).ShouldBeTrue();
        agent.Requests.Single().Body.ShouldContain($"\"Status\":\"{status}\"");
        agent.State.GetCheck("service:app-host1")!.Status.ShouldBe(status);
        logger.Count(LogLevel.Information, $"Registering service app with initial status set to {status}").ShouldBe(1);
        logger.Count(LogLevel.Information, "Service registered: app").ShouldBe(1);

        // The first heartbeat only updates the TTL.
        await registrar.HeartbeatAsync(Ct);
        Registrations(agent).ShouldBe(1);
        agent.State.GetCheck("service:app-host1")!.Status.ShouldBe("passing");
    }

    [Fact]
    public async Task ServiceRegistrar_Heartbeat_ReRegisters_WhenAgentLostTheService()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        await using var registrar = new ServiceRegistrar(App(), client, new CapturingLogger());
        await registrar.HeartbeatAsync(Ct);

        agent.RestartEmpty();
        (await registrar.HeartbeatAsync(Ct)).ShouldBeTrue();
        agent.Requests.Select(r => r.Path).Skip(2).ShouldBe([
            "/v1/agent/check/update/service:app-host1", // 404: unknown check
            "/v1/agent/service/register",
            "/v1/agent/check/update/service:app-host1",
        ]);
        agent.State.GetCheck("service:app-host1")!.Status.ShouldBe("passing");
        registrar.IsFailing.ShouldBeFalse();
    }

    [Fact]
    public async Task ServiceRegistrar_Heartbeat_ReRegisters_WhenLegacyAgentAnswers500()
    {
        await using var agent = await TestAgent.StartAsync(new ConsulTestAgentOptions { LegacyUnknownCheck500 = true }, Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        await using var registrar = new ServiceRegistrar(App(), client, new CapturingLogger());
        await registrar.HeartbeatAsync(Ct);
        agent.State.Deregister("app-host1"); // as the DeregisterCriticalServiceAfter reaper would
        (await registrar.HeartbeatAsync(Ct)).ShouldBeTrue();
        agent.State.GetService("app-host1").ShouldNotBeNull();
        Registrations(agent).ShouldBe(2);
    }

    [Fact]
    public async Task ServiceRegistrar_Maintenance_DeregistersIgnoresHeartbeatsThenReRegistersOnExit()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        await using var registrar = new ServiceRegistrar(App(), client, new CapturingLogger());
        await registrar.HeartbeatAsync(Ct);

        await registrar.EnterMaintenanceAsync(Ct);
        registrar.InMaintenance.ShouldBeTrue();
        registrar.IsRegistered.ShouldBeFalse();
        agent.State.Services.ShouldBeEmpty();
        agent.Requests.Last().Path.ShouldBe("/v1/agent/service/deregister/app-host1");
        var count = agent.Requests.Length;
        (await registrar.HeartbeatAsync(Ct)).ShouldBeFalse();
        agent.Requests.Length.ShouldBe(count);

        registrar.ExitMaintenance();
        (await registrar.HeartbeatAsync(Ct)).ShouldBeTrue();
        agent.State.GetService("app-host1").ShouldNotBeNull();
        agent.State.GetCheck("service:app-host1")!.Status.ShouldBe("passing");
        Registrations(agent).ShouldBe(2);
    }

    [Fact]
    public async Task ServiceRegistrar_Deregister_RemovesService_AndToleratesUnknown()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        var logger = new CapturingLogger();
        await using var registrar = new ServiceRegistrar(App(), client, logger);
        await registrar.HeartbeatAsync(Ct);
        await registrar.DeregisterAsync(Ct);
        agent.State.Services.ShouldBeEmpty();
        registrar.IsRegistered.ShouldBeFalse();

        await registrar.DeregisterAsync(Ct); // 404 from the agent: already gone, not a failure
        logger.Count(LogLevel.Information, "deregistering failed").ShouldBe(0);
        logger.Count(LogLevel.Debug, "deregistering: app-host1").ShouldBe(2);
    }

    [Fact]
    public async Task ServiceRegistrar_Deregister_WhenConsulDown_LogsAndDoesNotThrow()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        var logger = new CapturingLogger();
        await using var registrar = new ServiceRegistrar(App(), client, logger);
        await agent.GoDownAsync();
        await registrar.DeregisterAsync(Ct);
        logger.Count(LogLevel.Information, "deregistering failed: ").ShouldBe(1);
    }

    [Fact]
    public async Task ServiceRegistrar_Outage_RetriesWithBackoffAndReRegistersAfterRestartEmpty()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent, timeout: TimeSpan.FromSeconds(2));
        var logger = new CapturingLogger();
        await using var registrar = new ServiceRegistrar(App(), client, logger, backoff: Fast);
        (await registrar.HeartbeatAsync(Ct)).ShouldBeTrue();

        await agent.GoDownAsync();
        (await registrar.HeartbeatAsync(Ct)).ShouldBeFalse(); // no throw
        (await registrar.HeartbeatAsync(Ct)).ShouldBeFalse();
        registrar.IsFailing.ShouldBeTrue();
        registrar.IsRegistered.ShouldBeFalse();

        // The agent comes back having lost everything; the retry loop re-registers without waiting for a heartbeat.
        agent.State.Clear();
        await agent.ComeUpAsync(Ct);
        await agent.WaitUntilAsync(() => agent.State.GetCheck("service:app-host1")?.Status == "passing", Timeout, "re-registered and passing");
        await agent.WaitUntilAsync(() => !registrar.IsFailing, Timeout, "registrar recovered");

        registrar.IsRegistered.ShouldBeTrue();
        logger.Count(LogLevel.Warning, "service update TTL failed").ShouldBe(1); // once per up→down
        logger.Count(LogLevel.Information, "back in consul").ShouldBe(1);     // once per down→up
    }

    [Fact]
    public async Task ServiceRegistrar_AgentErrors_RetryWithGrowingDelaysAndLogOnce()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        var logger = new CapturingLogger();
        await using var registrar = new ServiceRegistrar(App(), client, logger, backoff: Fast);

        agent.Fault = AgentFault.Error500;
        (await registrar.HeartbeatAsync(Ct)).ShouldBeFalse();
        // First attempt, then retries after 100, 200, 400, 400 ms.
        await agent.WaitUntilAsync(() => Registrations(agent) >= 5, Timeout, "five registration attempts");
        var times = agent.Requests.Where(r => r.Path == "/v1/agent/service/register").Select(r => r.At).Take(5).ToList();
        var gaps = times.Zip(times.Skip(1), (a, b) => b - a).ToList();
        gaps[0].ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(90));
        gaps[1].ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(180));
        gaps[2].ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(360));
        gaps[3].ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(360));
        logger.Count(LogLevel.Warning, "Unexpected response code: 500").ShouldBe(1);

        agent.Fault = AgentFault.None;
        await agent.WaitUntilAsync(() => agent.State.GetCheck("service:app-host1")?.Status == "passing", Timeout, "registered after the fault");
        await agent.WaitUntilAsync(() => !registrar.IsFailing, Timeout, "registrar recovered");
        logger.Count(LogLevel.Information, "back in consul").ShouldBe(1);
    }

    [Fact]
    public async Task ServiceRegistrar_InitialStatusRegistration_RetriesUntilAgentIsUp()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        await using var registrar = new ServiceRegistrar(App("critical"), client, new CapturingLogger(), backoff: Fast);
        await agent.GoDownAsync();
        (await registrar.RegisterAsync(Ct)).ShouldBeFalse();
        await agent.ComeUpAsync(Ct);
        await agent.WaitUntilAsync(() => registrar.IsRegistered, Timeout, "registered with initial status");
        agent.State.GetCheck("service:app-host1")!.Status.ShouldBe("critical");
    }

    [Fact]
    public async Task ServiceRegistrar_Deregister_StopsRetries()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        await using var registrar = new ServiceRegistrar(App(), client, new CapturingLogger(), backoff: Fast);
        agent.Fault = AgentFault.Error500;
        await registrar.HeartbeatAsync(Ct);
        registrar.IsRetrying.ShouldBeTrue();
        agent.Fault = AgentFault.None;
        await registrar.DeregisterAsync(Ct);
        registrar.IsRetrying.ShouldBeFalse(); // the loop has ended, so nothing re-registers behind our back
        registrar.IsRegistered.ShouldBeFalse();
        agent.State.Services.ShouldBeEmpty();
    }
}
