using System.Net;
using Pilot.Api.Telemetry;
using Pilot.Api.Tests.Support;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Events;
using Prometheus;
using Shouldly;

namespace Pilot.Api.Tests.Telemetry;

/// <summary>
/// The telemetry port is bound from the start, but Kestrel serves it only while scrapers call: an unscraped Pilot runs
/// no Kestrel (whose heartbeat allocates every second), and a scrape after an idle spell is answered all the same.
/// </summary>
public sealed class TelemetryOnDemandTests
{
    [Fact]
    public async Task Port_IsBoundAtStart_AndKestrelRunsOnlyWhileScrapersCall()
    {
        var token = TestContext.Current.CancellationToken;
        var config = ConfigLoader.Parse("""{ telemetry: { port: 0, interfaces: ["static:127.0.0.1"] } }""", new Dictionary<string, string>());
        config.IsValid.ShouldBeTrue(string.Join('\n', config.Errors));
        var serving = new ServingLog();
        var registry = Metrics.NewCustomRegistry();
        Metrics.WithCustomRegistry(registry).CreateGauge("probe_gauge", "a gauge").Set(7);
        var supervisor = new FakeSupervisorControl();
        await using var server = new TelemetryServer(registry, () => supervisor, serving, idleAfter: TimeSpan.FromMilliseconds(200));
        await using var bus = new EventBus();

        await server.StartAsync(config.Config!, bus, token);

        server.Address.ShouldNotBeNull().Port.ShouldBeGreaterThan(0);
        server.IsServing.ShouldBeFalse();
        for (var round = 0; round < 2; round++)
        {
            using (var http = new HttpClient { BaseAddress = server.Address })
            {
                var response = await http.GetAsync("/metrics", token);
                response.StatusCode.ShouldBe(HttpStatusCode.OK);
                (await response.Content.ReadAsStringAsync(token)).ShouldContain("probe_gauge 7");
                (await serving.Changes.ReadAsync(token)).ShouldBeTrue();
            }
            (await serving.Changes.ReadAsync(token)).ShouldBeFalse();
            server.IsServing.ShouldBeFalse();
        }

        // Stopped: nothing listens any more (no descriptor of the port is left behind, by any of the Kestrels either).
        await server.StopAsync(token);
        using var refused = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(10) };
        await Should.ThrowAsync<HttpRequestException>(() => refused.GetAsync("/metrics", token));
    }
}
