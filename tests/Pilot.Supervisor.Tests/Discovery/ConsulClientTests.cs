using Pilot.ConsulTestAgent;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Discovery;
using Pilot.Supervisor.Discovery.Consul;
using Shouldly;
using Xunit;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Supervisor.Tests.Discovery;

public sealed class ConsulClientTests
{
    private static readonly TimeSpan Timeout = ConsulTestSupport.Timeout;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ServiceRegistration Full => new()
    {
        Id = "app-3f2a",
        Name = "app",
        Tags = ["prod", "v2"],
        Port = 80,
        Address = "10.0.0.5",
        EnableTagOverride = true,
        Check = new ServiceCheck { Ttl = "10s", Status = "passing", Notes = "TTL for app set by containerpilot", DeregisterCriticalServiceAfter = "10m" },
    };

    [Fact]
    public async Task ConsulClient_RegisterService_SendsV3BodyWithEveryField()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        await client.RegisterServiceAsync(Full, Ct);
        var request = agent.Requests.Single();
        request.Method.ShouldBe("PUT");
        request.Path.ShouldBe("/v1/agent/service/register");
        request.Body.ShouldBe("""{"ID":"app-3f2a","Name":"app","Tags":["prod","v2"],"Port":80,"Address":"10.0.0.5","EnableTagOverride":true,"Check":{"TTL":"10s","Status":"passing","Notes":"TTL for app set by containerpilot","DeregisterCriticalServiceAfter":"10m"},"Checks":null}""" + "\n");
        var service = agent.State.GetService("app-3f2a")!;
        service.Tags.ShouldBe(["prod", "v2"]);
        service.EnableTagOverride.ShouldBeTrue();
        agent.State.GetCheck("service:app-3f2a")!.ShouldSatisfyAllConditions(
            c => c.Status.ShouldBe("passing"),
            c => c.Notes.ShouldBe("TTL for app set by containerpilot"),
            c => c.DeregisterCriticalServiceAfter.ShouldBe("10m"));
    }

    [Fact]
    public async Task ConsulClient_RegisterService_OmitsEmptyFieldsAsGoOmitempty()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        var minimal = Full with
        {
            Tags = [],
            Port = 0,
            EnableTagOverride = false,
            Check = Full.Check! with { DeregisterCriticalServiceAfter = "" },
        };
        await client.RegisterServiceAsync(minimal, Ct);
        agent.Requests.Single().Body.ShouldBe("""{"ID":"app-3f2a","Name":"app","Address":"10.0.0.5","Check":{"TTL":"10s","Status":"passing","Notes":"TTL for app set by containerpilot"},"Checks":null}""" + "\n");
    }

    [Fact]
    public void ConsulClient_SerializeRegistration_MatchesV3ReferenceExample()
    {
        using var client = new ConsulClient(new ConsulConfig());
        var definition = new ServiceDefinition { Id = "app-3f2a", Name = "app", Tags = ["prod"], Port = 80, Address = "10.0.0.5", TtlSeconds = 10 };
        client.SerializeRegistration(definition.ToRegistration("passing")).ShouldBe(
            """{"ID":"app-3f2a","Name":"app","Tags":["prod"],"Port":80,"Address":"10.0.0.5","Check":{"TTL":"10s","Status":"passing","Notes":"TTL for app set by containerpilot"},"Checks":null}""" + "\n");
    }

    [Fact]
    public void ConsulClient_SerializeRegistration_KeepsNonAsciiTagsUnescaped()
    {
        using var client = new ConsulClient(new ConsulConfig());
        client.SerializeRegistration(Full with { Tags = ["zürich"] }).ShouldContain("\"Tags\":[\"zürich\"]");
    }

    [Fact]
    public async Task ConsulClient_UpdateTtl_SendsV3HeartbeatBody()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        await client.RegisterServiceAsync(Full with { Check = Full.Check! with { Status = "critical" } }, Ct);
        await client.UpdateTtlAsync("service:app-3f2a", "passing", "ok", Ct);
        var request = agent.Requests.Last();
        request.Method.ShouldBe("PUT");
        request.Path.ShouldBe("/v1/agent/check/update/service:app-3f2a");
        request.Body.ShouldBe("{\"Status\":\"passing\",\"Output\":\"ok\"}\n");
        agent.State.GetCheck("service:app-3f2a")!.Status.ShouldBe("passing");
    }

    [Fact]
    public async Task ConsulClient_DeregisterService_PutsWithoutBody()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        await client.RegisterServiceAsync(Full, Ct);
        await client.DeregisterServiceAsync("app-3f2a", Ct);
        var request = agent.Requests.Last();
        request.Method.ShouldBe("PUT");
        request.Path.ShouldBe("/v1/agent/service/deregister/app-3f2a");
        request.Body.ShouldBeEmpty();
        agent.State.Services.ShouldBeEmpty();
    }

    [Fact]
    public async Task ConsulClient_Token_IsSentAsXConsulToken()
    {
        await using var agent = await TestAgent.StartAsync(new ConsulTestAgentOptions { RequiredToken = "t0k" }, Ct);
        using var client = ConsulTestSupport.ClientFor(agent, token: "t0k");
        await client.RegisterServiceAsync(Full, Ct);
        (await client.ListAgentServicesAsync(Ct)).Keys.ShouldBe(["app-3f2a"]);
        agent.Requests.ShouldAllBe(r => r.Token == "t0k");

        using var anonymous = ConsulTestSupport.ClientFor(agent);
        var ex = await Should.ThrowAsync<ConsulResponseException>(() => anonymous.ListAgentServicesAsync(Ct));
        ex.Message.ShouldBe("Unexpected response code: 403 (Permission denied)");
    }

    [Fact]
    public async Task ConsulClient_UnknownCheck_ThrowsTypedErrorWithV3Text()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        var ex = await Should.ThrowAsync<ConsulResponseException>(() => client.UpdateTtlAsync("service:gone", "passing", "ok", Ct));
        ex.StatusCode.ShouldBe(404);
        ex.IsUnknownCheck.ShouldBeTrue();
        ex.Message.ShouldBe("Unexpected response code: 404 (Unknown check ID \"service:gone\". Ensure that the check ID is passed, not the check name.)");
    }

    [Fact]
    public async Task ConsulClient_LegacyUnknownCheck500_IsRecognisedAsUnknownCheck()
    {
        await using var agent = await TestAgent.StartAsync(new ConsulTestAgentOptions { LegacyUnknownCheck500 = true }, Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        var ex = await Should.ThrowAsync<ConsulResponseException>(() => client.UpdateTtlAsync("service:gone", "passing", "ok", Ct));
        ex.StatusCode.ShouldBe(500);
        ex.IsUnknownCheck.ShouldBeTrue();
    }

    [Fact]
    public async Task ConsulClient_Faults_MapToTypedExceptions()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent, timeout: TimeSpan.FromMilliseconds(500));

        agent.Fault = AgentFault.Error500;
        var error = await Should.ThrowAsync<ConsulResponseException>(() => client.ListAgentServicesAsync(Ct));
        error.Message.ShouldBe("Unexpected response code: 500 (injected fault: agent error)");
        error.IsUnknownCheck.ShouldBeFalse();

        agent.Fault = AgentFault.Hang;
        var hang = await Should.ThrowAsync<ConsulUnreachableException>(() => client.RegisterServiceAsync(Full, Ct).WaitAsync(Timeout, Ct));
        hang.Message.ShouldContain("no answer within 0.5s");
        agent.Fault = AgentFault.None;

        await agent.GoDownAsync();
        await Should.ThrowAsync<ConsulUnreachableException>(() => client.DeregisterServiceAsync("x", Ct).WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task ConsulClient_CallerCancellation_SurfacesAsOperationCanceled()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        agent.Fault = AgentFault.Hang;
        using var client = ConsulTestSupport.ClientFor(agent);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Should.ThrowAsync<OperationCanceledException>(() => client.ListAgentServicesAsync(cts.Token).WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task ConsulClient_GetHealthyService_SendsV3QueryAndReturnsEntriesWithIndex()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        ConsulTestSupport.SeedInstance(agent, "db", "db-1", "10.0.0.7", 5432, "primary");
        ConsulTestSupport.SeedInstance(agent, "db", "db-2", "", 5433, "replica");
        using var client = ConsulTestSupport.ClientFor(agent);

        var result = await client.GetHealthyServiceAsync("db", "primary", "dc1", 0, TimeSpan.FromSeconds(10), Ct);
        agent.Requests.Last().Query.ShouldBe("?dc=dc1&passing=1&tag=primary");
        result.Index.ShouldBe(agent.State.ServiceIndex("db"));
        var entry = result.Value.Single();
        entry.ServiceId.ShouldBe("db-1");
        entry.Address.ShouldBe("10.0.0.7");
        entry.Port.ShouldBe(5432);
        entry.Tags.ShouldBe(["primary"]);
        entry.Checks.Select(c => c.CheckId).ShouldBe(["serfHealth", "service:db-1"]);

        var all = await client.GetHealthyServiceAsync("db", null, null, 0, TimeSpan.Zero, Ct);
        agent.Requests.Last().Query.ShouldBe("?passing=1");
        all.Value.Length.ShouldBe(2);
        all.Value.Single(e => e.ServiceId == "db-2").EffectiveAddress.ShouldBe("127.0.0.1"); // the node's address
    }

    [Fact]
    public async Task ConsulClient_GetHealthyService_BlocksUntilChange()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        var first = await client.GetHealthyServiceAsync("db", null, null, 0, TimeSpan.Zero, Ct);
        var blocking = client.GetHealthyServiceAsync("db", null, null, first.Index, TimeSpan.FromSeconds(30), Ct);
        var request = await agent.WaitForRequestAsync(r => r.Query.Contains("index=", StringComparison.Ordinal), Timeout);
        request.Query.ShouldBe($"?index={first.Index}&passing=1&wait=30000ms");
        blocking.IsCompleted.ShouldBeFalse();
        ConsulTestSupport.SeedInstance(agent, "db", "db-1", "10.0.0.7", 5432);
        var changed = await blocking.WaitAsync(Timeout, Ct);
        changed.Index.ShouldBeGreaterThan(first.Index);
        changed.Value.Single().ServiceId.ShouldBe("db-1");
    }

    [Fact]
    public async Task ConsulClient_ListAgentServices_ShowsWhatTheAgentHas()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var client = ConsulTestSupport.ClientFor(agent);
        (await client.ListAgentServicesAsync(Ct)).ShouldBeEmpty();
        await client.RegisterServiceAsync(Full, Ct);
        var service = (await client.ListAgentServicesAsync(Ct))["app-3f2a"];
        service.ShouldBe(service with { Name = "app", Address = "10.0.0.5", Port = 80 });
        agent.Requests.Last().Path.ShouldBe("/v1/agent/services");
    }

    [Theory]
    [InlineData("127.0.0.1:8500", "", "http", "127.0.0.1:8500")]
    [InlineData("consul:8500", "https", "https", "consul:8500")]
    [InlineData("https://consul:8501", "http", "https", "consul:8501")]
    [InlineData("unix:///run/consul.sock", "", "unix", "/run/consul.sock")]
    [InlineData("", "", "http", "127.0.0.1:8500")]
    public void ConsulClient_SplitAddress_ResolvesSchemeAndAddress(string address, string scheme, string expectedScheme, string expectedAddress)
    {
        ConsulClient.SplitAddress(new ConsulConfig { Address = address, Scheme = scheme }).ShouldBe((expectedScheme, expectedAddress));
    }

    [Fact]
    public void ConsulClient_SplitAddress_RejectsUnknownSchemeWithV3Text()
    {
        var ex = Should.Throw<ArgumentException>(() => ConsulClient.SplitAddress(new ConsulConfig { Address = "httpshttps://c:8500" }));
        ex.Message.ShouldStartWith("Unknown protocol scheme: httpshttps");
    }

    [Fact]
    public void ConsulClient_HealthQuery_EncodesKeysSortedAsGo()
    {
        ConsulClient.HealthQuery("a b", "dc2", 42, TimeSpan.FromSeconds(5)).ShouldBe("?dc=dc2&index=42&passing=1&tag=a%20b&wait=5000ms");
    }
}
