using Pilot.ConsulTestAgent;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Discovery;
using Shouldly;
using Xunit;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Supervisor.Tests.Discovery;

/// <summary>A hung agent never makes a heartbeat or a deregistration wait behind a stuck call.</summary>
public sealed class ConsulServiceRegistrationTests
{
    private const string CheckPath = "/v1/agent/check/update/service:app-host1";
    private static readonly TimeSpan Timeout = ConsulTestSupport.Timeout;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // TTL 60 s: each call may take 10 s (the client's limit), far longer than any wait below — what arrives within
    // those waits did not queue behind the stuck call.
    private static ServiceDefinition App() => ServiceDefinition.FromJob(
        new JobConfig { Name = "app", Port = 8080, Health = new HealthConfig { Interval = TimeSpan.FromSeconds(5), TtlSeconds = 60 } },
        address: "10.0.0.5",
        hostname: "host1");

    /// <summary>Sets the agent hanging and waits until the call <paramref name="send"/> makes is stuck there.</summary>
    private static async Task HungCallAsync(TestAgent agent, Action send)
    {
        var before = agent.Requests.Length;
        agent.Fault = AgentFault.Hang;
        send();
        await agent.WaitUntilAsync(() => agent.Requests.Length > before, Timeout, "a call reaching the hung agent");
    }

    [Fact]
    public async Task Heartbeat_SupersedesAHungHeartbeat_InsteadOfWaitingBehindIt()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent, timeout: TimeSpan.FromSeconds(10));
        await using var registration = new ConsulServiceRegistration(new ServiceRegistrar(App(), client, new CapturingLogger()));
        registration.Heartbeat();
        await agent.WaitForRequestAsync(r => r.Path == CheckPath, Timeout);
        await HungCallAsync(agent, registration.Heartbeat);

        agent.Fault = AgentFault.None;
        var recovered = agent.Requests.Length;
        registration.Heartbeat();

        await agent.WaitForRequestAsync(r => r.Path == CheckPath && agent.Requests.IndexOf(r) >= recovered, TimeSpan.FromSeconds(5));
        await agent.WaitUntilAsync(() => agent.State.GetCheck("service:app-host1")?.Status == "passing", TimeSpan.FromSeconds(5), "passing again");
    }

    [Fact]
    public async Task Deregister_SupersedesAHungHeartbeat()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent, timeout: TimeSpan.FromSeconds(10));
        await using var registration = new ConsulServiceRegistration(new ServiceRegistrar(App(), client, new CapturingLogger()));
        registration.Heartbeat();
        await agent.WaitUntilAsync(() => agent.State.GetService("app-host1") is not null, Timeout, "registered");
        await HungCallAsync(agent, registration.Heartbeat);

        agent.Fault = AgentFault.None;
        await registration.DeregisterAsync(Ct).WaitAsync(TimeSpan.FromSeconds(5), Ct);

        agent.State.GetService("app-host1").ShouldBeNull();
    }

    [Fact]
    public async Task Dispose_CancelsAHungCall_AtOnce()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent, timeout: TimeSpan.FromSeconds(10));
        var registration = new ConsulServiceRegistration(new ServiceRegistrar(App(), client, new CapturingLogger()));
        await HungCallAsync(agent, registration.Heartbeat);

        await registration.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
    }

    [Theory]
    [InlineData(6, 10, 3000)]     // half the TTL
    [InlineData(60, 10, 10000)]   // never more than the client's limit
    [InlineData(0, 10, 10000)]    // no TTL: the client's limit
    public void CallTimeout_IsHalfTheTtl_CappedByTheClientsLimit(int ttlSeconds, int requestSeconds, int expectedMilliseconds) =>
        ServiceRegistrar.CallTimeoutFor(TimeSpan.FromSeconds(ttlSeconds), TimeSpan.FromSeconds(requestSeconds))
            .ShouldBe(TimeSpan.FromMilliseconds(expectedMilliseconds));

    [Fact]
    public void CallTimeout_HasAFloor_ForTinyTtls() =>
        ServiceRegistrar.CallTimeoutFor(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10)).ShouldBe(ServiceRegistrar.MinimumCallTimeout);
}
