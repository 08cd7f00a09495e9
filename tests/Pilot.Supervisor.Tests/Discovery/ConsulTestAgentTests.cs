using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pilot.ConsulTestAgent;
using Shouldly;
using Xunit;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Supervisor.Tests.Discovery;

/// <summary>The test agent itself, exercised over raw HTTP the way Consul's API documentation describes.</summary>
public sealed class ConsulTestAgentTests
{
    private static readonly TimeSpan Timeout = ConsulTestSupport.Timeout;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static HttpClient Http(TestAgent agent) => new() { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromSeconds(20) };

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static Task<HttpResponseMessage> RegisterAsync(HttpClient http, string id, string name, string check) =>
        http.PutAsync("/v1/agent/service/register", Body($$"""{"ID":"{{id}}","Name":"{{name}}","Address":"10.0.0.1","Port":80,"Check":{{check}}}"""), Ct);

    private static ulong Index(HttpResponseMessage r) => ulong.Parse(r.Headers.GetValues("X-Consul-Index").Single(), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task TestAgent_BlockingQuery_WakesOnRegistration()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var http = Http(agent);
        using var first = await http.GetAsync("/v1/health/service/web?passing=1", Ct);
        var index = Index(first);
        index.ShouldBeGreaterThan(0UL);

        var watch = Stopwatch.StartNew();
        var blocking = http.GetAsync($"/v1/health/service/web?index={index}&passing=1&wait=30s", Ct);
        await agent.WaitForRequestAsync(r => r.Query.Contains("index=", StringComparison.Ordinal), Timeout);
        blocking.IsCompleted.ShouldBeFalse();

        (await RegisterAsync(http, "web-1", "web", """{"TTL":"30s","Status":"passing"}""")).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var answer = await blocking.WaitAsync(Timeout, Ct);
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5));
        Index(answer).ShouldBeGreaterThan(index);
        using var doc = JsonDocument.Parse(await answer.Content.ReadAsStringAsync(Ct));
        var entry = doc.RootElement.EnumerateArray().Single();
        entry.GetProperty("Service").GetProperty("ID").GetString().ShouldBe("web-1");
        entry.GetProperty("Service").GetProperty("Port").GetInt32().ShouldBe(80);
        entry.GetProperty("Node").GetProperty("Node").GetString().ShouldBe("pilot-test-agent");
        entry.GetProperty("Checks").EnumerateArray().Select(c => c.GetProperty("CheckID").GetString()).ShouldBe(["serfHealth", "service:web-1"]);
    }

    [Fact]
    public async Task TestAgent_BlockingQuery_ReturnsSameIndexAfterWait_WhenNothingChanges()
    {
        await using var agent = await TestAgent.StartAsync(new ConsulTestAgentOptions { WaitJitter = false }, Ct);
        using var http = Http(agent);
        using var first = await http.GetAsync("/v1/health/service/web", Ct);
        var watch = Stopwatch.StartNew();
        using var second = await http.GetAsync($"/v1/health/service/web?index={Index(first)}&wait=300ms", Ct).WaitAsync(Timeout, Ct);
        watch.Elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(280));
        Index(second).ShouldBe(Index(first));
    }

    [Fact]
    public async Task TestAgent_TtlCheck_TurnsCriticalWhenTtlPassesWithoutUpdate()
    {
        var time = new FakeTimeProvider();
        await using var agent = await TestAgent.StartAsync(new ConsulTestAgentOptions { TimeProvider = time }, Ct);
        using var http = Http(agent);
        await RegisterAsync(http, "web-1", "web", """{"TTL":"10s","Status":"passing"}""");

        time.Advance(TimeSpan.FromSeconds(9));
        agent.State.GetCheck("service:web-1")!.Status.ShouldBe(CheckStatus.Passing);
        (await http.PutAsync("/v1/agent/check/update/service:web-1", Body("""{"Status":"passing","Output":"ok"}"""), Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        time.Advance(TimeSpan.FromSeconds(9)); // 18 s since registration, 9 s since the update
        agent.State.GetCheck("service:web-1")!.Status.ShouldBe(CheckStatus.Passing);
        time.Advance(TimeSpan.FromSeconds(2));
        var check = agent.State.GetCheck("service:web-1")!;
        check.Status.ShouldBe(CheckStatus.Critical);
        check.Output.ShouldBe("TTL expired");
        var passing = await http.GetFromJsonAsync<JsonElement>("/v1/health/service/web?passing=1", Ct);
        passing.GetArrayLength().ShouldBe(0);
        var all = await http.GetFromJsonAsync<JsonElement>("/v1/health/service/web", Ct);
        all.GetArrayLength().ShouldBe(1);
    }

    [Fact]
    public async Task TestAgent_Check_DefaultsToCritical_WhenRegisteredWithoutStatus()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var http = Http(agent);
        await RegisterAsync(http, "web-1", "web", """{"TTL":"10s"}""");
        agent.State.GetCheck("service:web-1")!.Status.ShouldBe(CheckStatus.Critical);
    }

    [Fact]
    public async Task TestAgent_Reaper_DeregistersServiceCriticalLongerThanDeregisterCriticalServiceAfter()
    {
        var time = new FakeTimeProvider();
        await using var agent = await TestAgent.StartAsync(new ConsulTestAgentOptions { TimeProvider = time }, Ct);
        using var http = Http(agent);
        // 10s is raised to Consul's 1 minute minimum; the reaper runs every 30 s.
        await RegisterAsync(http, "web-1", "web", """{"TTL":"5s","Status":"passing","DeregisterCriticalServiceAfter":"10s"}""");
        time.Advance(TimeSpan.FromSeconds(5)); // critical from here
        agent.State.GetCheck("service:web-1")!.Status.ShouldBe(CheckStatus.Critical);
        time.Advance(TimeSpan.FromSeconds(55)); // t=60: reaper pass, critical for 55 s
        agent.State.GetService("web-1").ShouldNotBeNull();
        time.Advance(TimeSpan.FromSeconds(30)); // t=90: critical for 85 s > 60 s
        agent.State.GetService("web-1").ShouldBeNull();
        agent.State.GetCheck("service:web-1").ShouldBeNull();
    }

    [Fact]
    public async Task TestAgent_Reaper_KeepsServiceWithoutDeregisterCriticalServiceAfter()
    {
        var time = new FakeTimeProvider();
        await using var agent = await TestAgent.StartAsync(new ConsulTestAgentOptions { TimeProvider = time }, Ct);
        using var http = Http(agent);
        await RegisterAsync(http, "web-1", "web", """{"TTL":"5s","Status":"passing"}""");
        time.Advance(TimeSpan.FromMinutes(10));
        agent.State.GetService("web-1").ShouldNotBeNull();
    }

    [Fact]
    public async Task TestAgent_CheckEndpoints_FollowConsulSemantics()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var http = Http(agent);
        await RegisterAsync(http, "web-1", "web", """{"TTL":"30s","Status":"passing"}""");
        (await http.PutAsync("/v1/agent/check/warn/service:web-1?note=slow", null, Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        agent.State.GetCheck("service:web-1")!.ShouldSatisfyAllConditions(c => c.Status.ShouldBe("warning"), c => c.Output.ShouldBe("slow"));
        (await http.PutAsync("/v1/agent/check/fail/service:web-1", null, Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        agent.State.GetCheck("service:web-1")!.Status.ShouldBe("critical");
        (await http.PutAsync("/v1/agent/check/pass/service:web-1", null, Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        agent.State.GetCheck("service:web-1")!.Status.ShouldBe("passing");

        var bad = await http.PutAsync("/v1/agent/check/update/service:web-1", Body("""{"Status":"pass","Output":"ok"}"""), Ct);
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var unknown = await http.PutAsync("/v1/agent/check/update/service:nope", Body("""{"Status":"passing","Output":"ok"}"""), Ct);
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await unknown.Content.ReadAsStringAsync(Ct)).ShouldContain("Unknown check ID \"service:nope\"");
        (await http.GetAsync("/v1/agent/check/pass/service:web-1", Ct)).StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);

        var checks = await http.GetFromJsonAsync<JsonElement>("/v1/agent/checks", Ct);
        checks.GetProperty("service:web-1").GetProperty("ServiceID").GetString().ShouldBe("web-1");
        checks.GetProperty("service:web-1").GetProperty("Name").GetString().ShouldBe("Service 'web' check");
    }

    [Fact]
    public async Task TestAgent_LegacyMode_AnswersUnknownCheckWith500()
    {
        await using var agent = await TestAgent.StartAsync(new ConsulTestAgentOptions { LegacyUnknownCheck500 = true }, Ct);
        using var http = Http(agent);
        var r = await http.PutAsync("/v1/agent/check/update/service:nope", Body("""{"Status":"passing","Output":"ok"}"""), Ct);
        r.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        (await r.Content.ReadAsStringAsync(Ct)).ShouldBe("CheckID \"service:nope\" does not have associated TTL");
    }

    [Fact]
    public async Task TestAgent_Register_ValidatesLikeConsul()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var http = Http(agent);
        (await http.PutAsync("/v1/agent/service/register", Body("""{"Port":80}"""), Ct)).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await RegisterAsync(http, "a", "web", """{"TTL":"10s","Status":"bogus"}""")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await RegisterAsync(http, "a", "web", """{"TTL":"ten"}""")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        // Keys are case-insensitive; ID defaults to the name; Checks[] get numbered IDs.
        (await http.PutAsync("/v1/agent/service/register",
            Body("""{"name":"db","tags":["primary"],"enableTagOverride":true,"Checks":[{"TTL":"10s"},{"TTL":"20s"}]}"""), Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var services = await http.GetFromJsonAsync<JsonElement>("/v1/agent/services", Ct);
        var db = services.GetProperty("db");
        db.GetProperty("Service").GetString().ShouldBe("db");
        db.GetProperty("Tags")[0].GetString().ShouldBe("primary");
        db.GetProperty("EnableTagOverride").GetBoolean().ShouldBeTrue();
        agent.State.GetCheck("service:db:1").ShouldNotBeNull();
        agent.State.GetCheck("service:db:2").ShouldNotBeNull();
    }

    [Fact]
    public async Task TestAgent_HealthService_FiltersPassingTagAndDatacenter()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var http = Http(agent);
        await http.PutAsync("/v1/agent/service/register", Body("""{"ID":"a","Name":"db","Tags":["primary"],"Check":{"TTL":"30s","Status":"passing"}}"""), Ct);
        await http.PutAsync("/v1/agent/service/register", Body("""{"ID":"b","Name":"db","Tags":["replica"],"Check":{"TTL":"30s","Status":"passing"}}"""), Ct);
        await http.PutAsync("/v1/agent/service/register", Body("""{"ID":"c","Name":"db","Tags":["replica"],"Check":{"TTL":"30s","Status":"warning"}}"""), Ct);

        static string[] Ids(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetProperty("Service").GetProperty("ID").GetString()!)];
        Ids(await http.GetFromJsonAsync<JsonElement>("/v1/health/service/db", Ct)).ShouldBe(["a", "b", "c"]);
        Ids(await http.GetFromJsonAsync<JsonElement>("/v1/health/service/db?passing=1", Ct)).ShouldBe(["a", "b"]);
        Ids(await http.GetFromJsonAsync<JsonElement>("/v1/health/service/db?passing=1&tag=replica", Ct)).ShouldBe(["b"]);
        Ids(await http.GetFromJsonAsync<JsonElement>("/v1/health/service/db?dc=dc1&passing=1&tag=primary", Ct)).ShouldBe(["a"]);
        (await http.GetAsync("/v1/health/service/db?dc=elsewhere", Ct)).StatusCode.ShouldBe(HttpStatusCode.InternalServerError);

        var catalog = await http.GetFromJsonAsync<JsonElement>("/v1/catalog/service/db?tag=replica", Ct);
        catalog.EnumerateArray().Select(x => x.GetProperty("ServiceID").GetString()).ShouldBe(["b", "c"]);
        (await http.GetFromJsonAsync<string>("/v1/status/leader", Ct)).ShouldBe("127.0.0.1:8300");
    }

    [Fact]
    public async Task TestAgent_Deregister_RemovesServiceAndChecks_And404sUnknown()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var http = Http(agent);
        await RegisterAsync(http, "web-1", "web", """{"TTL":"30s","Status":"passing"}""");
        (await http.PutAsync("/v1/agent/service/deregister/web-1", null, Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        agent.State.Services.ShouldBeEmpty();
        agent.State.Checks.ShouldBeEmpty();
        (await http.PutAsync("/v1/agent/service/deregister/web-1", null, Ct)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TestAgent_RequiredToken_RejectsRequestsWithoutIt()
    {
        await using var agent = await TestAgent.StartAsync(new ConsulTestAgentOptions { RequiredToken = "s3cret" }, Ct);
        using var http = Http(agent);
        (await http.GetAsync("/v1/agent/services", Ct)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/agent/services");
        request.Headers.Add("X-Consul-Token", "s3cret");
        (await http.SendAsync(request, Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
        agent.Requests.Last().Token.ShouldBe("s3cret");
    }

    [Fact]
    public async Task TestAgent_Records_MethodPathQueryAndBody()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var http = Http(agent);
        await http.PutAsync("/v1/agent/check/update/service:x?foo=1", Body("""{"Status":"passing","Output":"ok"}"""), Ct);
        var r = agent.Requests.Single();
        r.Method.ShouldBe("PUT");
        r.Path.ShouldBe("/v1/agent/check/update/service:x");
        r.Query.ShouldBe("?foo=1");
        r.Body.ShouldBe("""{"Status":"passing","Output":"ok"}""");
    }

    [Fact]
    public async Task TestAgent_Faults_Error500HangDownAndRestartEmpty()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var http = Http(agent);
        await RegisterAsync(http, "web-1", "web", """{"TTL":"30s","Status":"passing"}""");
        var indexBefore = agent.State.Index;

        agent.Fault = AgentFault.Error500;
        (await http.GetAsync("/v1/agent/services", Ct)).StatusCode.ShouldBe(HttpStatusCode.InternalServerError);

        agent.Fault = AgentFault.Hang;
        using (var shortHttp = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMilliseconds(300) })
        {
            await Should.ThrowAsync<TaskCanceledException>(() => shortHttp.GetAsync("/v1/agent/services", Ct));
        }
        agent.Fault = AgentFault.None;

        var port = agent.Port;
        await agent.GoDownAsync();
        var down = await Should.ThrowAsync<HttpRequestException>(() => http.GetAsync("/v1/agent/services", Ct));
        down.HttpRequestError.ShouldBe(HttpRequestError.ConnectionError);
        await agent.ComeUpAsync(Ct);
        agent.Port.ShouldBe(port);
        (await http.GetFromJsonAsync<JsonElement>("/v1/agent/services", Ct)).TryGetProperty("web-1", out _).ShouldBeTrue();

        await agent.RestartEmptyAsync();
        (await http.GetFromJsonAsync<JsonElement>("/v1/agent/services", Ct)).EnumerateObject().ShouldBeEmpty();
        agent.State.Index.ShouldBeGreaterThan(indexBefore);
        using var health = await http.GetAsync("/v1/health/service/web", Ct);
        Index(health).ShouldBeGreaterThan(indexBefore);
    }

    [Fact]
    public async Task TestAgent_GoDown_CutsBlockingQueriesInFlight()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        using var http = Http(agent);
        var blocking = http.GetAsync("/v1/health/service/web?index=100000&wait=60s", Ct);
        await agent.WaitForRequestAsync(r => r.Query.Contains("index=100000", StringComparison.Ordinal), Timeout);
        await agent.GoDownAsync().WaitAsync(Timeout, Ct);
        await Should.ThrowAsync<HttpRequestException>(() => blocking.WaitAsync(Timeout, Ct));
    }
}
