using System.Collections.Immutable;
using Pilot.Api.Tests.Support;
using Pilot.ConsulTestAgent;
using Shouldly;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part B §4 (watches) on the real binary against the Consul test agent.</summary>
public sealed class WatchesTests
{
    private const int SIGTERM = 15;

    [Fact]
    public async Task WatchValidation_KeepsV3sMessages()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("""
            {
              consul: "localhost:8500",
              watches: [
                { name: "", interval: 1 },
                { name: "Bad_Name", interval: 1 },
                { name: "ab", interval: 0 },
                { name: "a", interval: 1 },
                { name: "cd", interval: "x" },
                { name: "ef", interval: 1, foo: 2 },
                5,
                { name: "gh", interval: 1, tag: "any tag", dc: "any dc" },
              ],
            }
            """, timeout.Token);

        outcome.ShouldReport("watches[0].name", "'name' must not be blank");
        outcome.ShouldReport("watches[1].name", "service names must be alphanumeric with dashes to comply with service discovery");
        outcome.ShouldReport("watches[2].interval", "watch[ab].interval must be > 0");
        outcome.ShouldReport("watches[3].name", "service names must be alphanumeric with dashes to comply with service discovery");
        outcome.ShouldReport("watches[4].interval", "cannot parse '[4].interval' as int: strconv.ParseInt: parsing \"x\": invalid syntax");
        outcome.ShouldReport("watches[5].foo", "'[5]' has invalid keys: foo");
        outcome.ShouldReport("watches[6]", "'[6]' expected a map, got 'float64'");
        outcome.Stdout.ShouldNotContain("watches[7]");
    }

    /// <summary>
    /// A watch queries v3's health endpoint (keys in Go's sorted order) and publishes, from <c>watch.&lt;name&gt;</c>,
    /// <c>changed</c> then <c>healthy</c> on every change while instances pass (count, address or port; tags are not a
    /// change) and <c>changed</c> then <c>unhealthy</c> when none are left; nothing for an empty first answer. The
    /// gauge <c>containerpilot_watch_instances</c> follows the count.
    /// </summary>
    [Fact]
    public async Task Watch_PublishesChangedThenHealthOnEveryChange_AndCountsInstances()
    {
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(2));
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        var port = LoopbackPort.Free();
        await using var pilot = RunningPilot.Start($$"""
            {
              consul: "{{agent.HttpAddress}}",
              control: { socket: "SOCKET" },
              telemetry: { port: {{port}}, interfaces: ["static:127.0.0.1"] },
              watches: [ { name: "app", interval: 60, tag: "web", dc: "dc1" } ],
              jobs: [ { name: "keep", exec: "sleep 600" } ],
            }
            """);
        await pilot.WaitForSocketAsync(timeout.Token);
        await agent.WaitForRequestAsync(r => r.Path == "/v1/health/service/app", TimeSpan.FromSeconds(60));
        using var client = pilot.CreateClient();
        using var stream = await client.GetAsync("/v3/events?source=watch.app", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var events = new StreamReader(await stream.Content.ReadAsStreamAsync(timeout.Token));
        (await events.ReadLineAsync(timeout.Token)).ShouldBe(": subscribed");
        await LoopbackPort.WaitUntilListenedOnAsync(port, timeout.Token);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        Seed(agent, "app-1", "10.0.0.1", 80, "web");
        (await NextAsync(events, 2, timeout.Token)).ShouldBe(["changed", "healthy"]);
        Seed(agent, "app-2", "10.0.0.2", 80, "web");
        (await NextAsync(events, 2, timeout.Token)).ShouldBe(["changed", "healthy"], "healthy again on every change with instances");
        (await http.GetStringAsync("/metrics", timeout.Token)).ShouldContain("containerpilot_watch_instances{service=\"app\"} 2");
        Seed(agent, "app-1", "10.0.0.1", 80, "web", "canary");
        Seed(agent, "other-tag", "10.0.0.3", 80, "db");
        Seed(agent, "app-2", "10.0.0.2", 81, "web");
        (await NextAsync(events, 2, timeout.Token)).ShouldBe(["changed", "healthy"], "a port change is a change; a tag change or an instance without the tag is not");
        agent.State.Deregister("app-1");
        agent.State.Deregister("app-2");
        var last = await NextAsync(events, 2, timeout.Token);
        if (last.SequenceEqual(["changed", "healthy"]))
        {
            // The two deregistrations reached the watch as two changes.
            last = await NextAsync(events, 2, timeout.Token);
        }
        last.ShouldBe(["changed", "unhealthy"]);

        var query = agent.Requests.First(r => r.Path == "/v1/health/service/app").Query;
        query.ShouldStartWith("?dc=dc1&passing=1&tag=web");
        var metrics = await http.GetStringAsync("/metrics", timeout.Token);
        metrics.ShouldContain("containerpilot_watch_instances{service=\"app\"} 0");
        metrics.ShouldContain("containerpilot_events{code=\"StatusUnhealthy\",source=\"watch.app\"} 1", customMessage: "nothing for the empty first answer");
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    private static void Seed(TestAgent agent, string id, string address, int port, params string[] tags) =>
        agent.State.Register(
            new AgentService { Id = id, Name = "app", Address = address, Port = port, Tags = [.. tags] },
            ImmutableArray.Create(new AgentCheck { CheckId = "service:" + id, Name = "check", Status = CheckStatus.Passing }));

    /// <summary>The codes of the next <paramref name="count"/> events of the stream.</summary>
    private static async Task<List<string>> NextAsync(StreamReader events, int count, CancellationToken token)
    {
        var codes = new List<string>();
        while (codes.Count < count)
        {
            var line = await events.ReadLineAsync(token) ?? throw new InvalidOperationException("the event stream ended");
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                codes.Add(System.Text.Json.JsonDocument.Parse(line["data: ".Length..]).RootElement.GetProperty("code").GetString()!);
            }
        }
        return codes;
    }
}
