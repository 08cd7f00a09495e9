using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pilot.Api.Tests.Support;
using Shouldly;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part B §5 (telemetry): the listener, <c>/status</c>, user metrics, the <c>containerpilot</c> job.</summary>
public sealed class TelemetryTests
{
    private const int SIGTERM = 15;

    /// <summary>
    /// <c>/status</c>: v3's JSON object plus a newline; non-service jobs in <c>Jobs</c>, services (address, port) in
    /// <c>Services</c> in config order with <c>containerpilot</c> last, watch names without <c>watch.</c>, live status
    /// strings (maintenance included); 405 with Go's plain-text body for other methods; 404 for other paths;
    /// <c>/metrics</c> on any method.
    /// </summary>
    [Fact]
    public async Task Status_HasV3sShapeAndStatusStrings()
    {
        using var timeout = PilotProcess.Timeout();
        var port = LoopbackPort.Free();
        await using var pilot = RunningPilot.Start($$"""
            {
              consul: "127.0.0.1:1",
              control: { socket: "SOCKET" },
              telemetry: { port: {{port}}, interfaces: ["static:127.0.0.1"] },
              watches: [ { name: "backend", interval: 60 } ],
              jobs: [
                { name: "plain", exec: "sleep 600" },
                { name: "svc", exec: "sleep 600", port: 8080, interfaces: ["static:10.1.1.1"], health: { exec: "true", interval: 1, ttl: 5 } },
                { name: "bad", exec: "sleep 600", port: 8081, interfaces: ["static:10.1.1.2"], health: { exec: "false", interval: 1, ttl: 5 } },
                { name: "idle", exec: "sleep 600", when: { source: "SIGHUP" } },
              ],
            }
            """);
        await pilot.WaitForSocketAsync(timeout.Token);
        await LoopbackPort.WaitUntilListenedOnAsync(port, timeout.Token);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        string body;
        while (true)
        {
            body = await http.GetStringAsync("/status", timeout.Token);
            if (body.Contains("\"healthy\"},{\"Name\":\"bad\"", StringComparison.Ordinal) && body.Contains("\"unhealthy\"", StringComparison.Ordinal))
            {
                break;
            }
            await Task.Delay(200, timeout.Token);
        }
        using var wrongMethod = await http.PostAsync("/status", null, timeout.Token);
        using var unknown = await http.GetAsync("/nothing-here", timeout.Token);
        using var metricsByPost = await http.PostAsync("/metrics", null, timeout.Token);

        var expected = $$"""
            {"Version":"V","Jobs":[{"Name":"plain","Status":"unknown"},{"Name":"idle","Status":"unknown"}],"Services":[{"Name":"svc","Address":"10.1.1.1","Port":8080,"Status":"healthy"},{"Name":"bad","Address":"10.1.1.2","Port":8081,"Status":"unhealthy"},{"Name":"containerpilot","Address":"127.0.0.1","Port":{{port}},"Status":"healthy"}],"Watches":["backend"]}
            """;
        Regex.Replace(body, "\"Version\":\"[^\"]*\"", "\"Version\":\"V\"").ShouldBe(expected + "\n");
        wrongMethod.StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);
        wrongMethod.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        (await wrongMethod.Content.ReadAsStringAsync(timeout.Token)).ShouldBe("Method Not Allowed\n");
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await unknown.Content.ReadAsStringAsync(timeout.Token)).ShouldBe("404 page not found\n");
        metricsByPost.StatusCode.ShouldBe(HttpStatusCode.OK);

        using var client = pilot.CreateClient();
        (await client.PostAsync("/v3/maintenance/enable", null, timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        // Every job takes the event on its own loop: wait until the last of the two checked has.
        while (!(body = await http.GetStringAsync("/status", timeout.Token)).Contains("{\"Name\":\"plain\",\"Status\":\"maintenance\"}", StringComparison.Ordinal)
            || !body.Contains("{\"Name\":\"svc\",\"Address\":\"10.1.1.1\",\"Port\":8080,\"Status\":\"maintenance\"}", StringComparison.Ordinal))
        {
            await Task.Delay(100, timeout.Token);
        }
        body.ShouldContain("{\"Name\":\"svc\",\"Address\":\"10.1.1.1\",\"Port\":8080,\"Status\":\"maintenance\"}");
        body.ShouldContain($"{{\"Name\":\"containerpilot\",\"Address\":\"127.0.0.1\",\"Port\":{port},\"Status\":\"healthy\"}}");
    }

    [Fact]
    public async Task Telemetry_ThatIsInvalid_IsRefusedWithV3sMessages()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("""
            {
              telemetry: {
                colour: "red",
                metrics: [
                  { name: "x", help: "h", type: "meter" },
                  { name: "y", help: "", type: "gauge" },
                  { name: "1bad", help: "h", type: "gauge" },
                  { namespace: "a-b", name: "x", help: "h", type: "gauge" },
                  { name: "z", help: "h", type: "Counter", foo: 1 },
                  5,
                ],
              },
            }
            """, timeout.Token);

        outcome.ShouldReport("telemetry.colour", "'' has invalid keys: colour");
        outcome.ShouldReport("telemetry.metrics[0].type", "invalid metric type: meter");
        outcome.ShouldReport("telemetry.metrics[1].help", "descriptor Desc{fqName: \"y\", help: \"\", constLabels: {}, variableLabels: []} is invalid: empty help string");
        outcome.ShouldReport("telemetry.metrics[2].name", "descriptor Desc{fqName: \"1bad\", help: \"h\", constLabels: {}, variableLabels: []} is invalid: \"1bad\" is not a valid metric name");
        outcome.ShouldReport("telemetry.metrics[3].name", "descriptor Desc{fqName: \"a-b_x\", help: \"h\", constLabels: {}, variableLabels: []} is invalid: \"a-b_x\" is not a valid metric name");
        outcome.ShouldReport("telemetry.metrics[4].type", "invalid metric type: Counter");
        outcome.ShouldReport("telemetry.metrics[4].foo", "'[4]' has invalid keys: foo");
        outcome.ShouldReport("telemetry.metrics[5]", "'[5]' expected a map, got 'float64'");
    }

    /// <summary>
    /// User metrics: exported under the non-empty parts joined with <c>_</c>; posted by v3's
    /// <c>namespace_subsystem_name</c> key (<c>__g</c> for a bare name) or the exported name; counters add, gauges
    /// set, histograms use Prometheus' default buckets, summaries the 0.5/0.9/0.99 quantiles.
    /// </summary>
    [Fact]
    public async Task Metrics_AreUpdatedByV3KeyOrExportedName_WithPrometheusDefaults()
    {
        using var timeout = PilotProcess.Timeout();
        var port = LoopbackPort.Free();
        await using var pilot = RunningPilot.Start($$"""
            {
              control: { socket: "SOCKET" },
              telemetry: {
                port: {{port}}, interfaces: ["static:127.0.0.1"],
                metrics: [
                  { namespace: "ns", subsystem: "sub", name: "c", help: "a counter", type: "counter" },
                  { name: "g", help: "a gauge", type: "gauge" },
                  { subsystem: "sub", name: "h", help: "a histogram", type: "histogram" },
                  { name: "s", help: "a summary", type: "summary" },
                ],
              },
              jobs: [ { name: "app", exec: "sleep 600" } ],
            }
            """);
        await pilot.WaitForSocketAsync(timeout.Token);
        using var client = pilot.CreateClient();

        foreach (var body in new[] { """{"ns_sub_c": 2, "__g": 42, "_sub_h": 0.2, "__s": 1}""", """{"ns_sub_c": 3, "g": 7, "sub_h": 20, "s": 3}""" })
        {
            (await client.PostAsync("/v3/metric", Http.Json(body), timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK, body);
        }
        await LoopbackPort.WaitUntilListenedOnAsync(port, timeout.Token);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var metrics = await http.GetStringAsync("/metrics", timeout.Token);

        metrics.ShouldContain("\nns_sub_c 5");
        metrics.ShouldContain("\ng 7");
        foreach (var bucket in new[] { "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf" })
        {
            metrics.ShouldContain($"sub_h_bucket{{le=\"{bucket}\"}}");
        }
        metrics.ShouldContain("sub_h_bucket{le=\"0.25\"} 1");
        metrics.ShouldContain("sub_h_bucket{le=\"+Inf\"} 2");
        metrics.ShouldContain("\nsub_h_sum 20.2");
        foreach (var quantile in new[] { "0.5", "0.9", "0.99" })
        {
            metrics.ShouldContain($"s{{quantile=\"{quantile}\"}}");
        }
        metrics.ShouldContain("\ns_count 2");
    }

    /// <summary>
    /// The <c>containerpilot</c> job never ends, so with telemetry Pilot keeps running when every other job is done;
    /// <c>telemetry: null</c> is no telemetry.
    /// </summary>
    [Fact]
    public async Task Telemetry_KeepsPilotRunning_AfterEveryOtherJobEnded()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        var port = LoopbackPort.Free();
        await using var withTelemetry = RunningPilot.Start($$"""
            {
              consul: "{{agent.HttpAddress}}",
              control: { socket: "SOCKET" },
              telemetry: { port: {{port}}, interfaces: ["static:127.0.0.1"] },
              jobs: [ { name: "once", exec: "echo once-ran" } ],
            }
            """);
        await using var nullTelemetry = RunningPilot.Start("""
            { control: { socket: "SOCKET" }, telemetry: null, jobs: [ { name: "once", exec: "echo once-ran" } ] }
            """);

        (await nullTelemetry.WaitForExitAsync(timeout.Token)).ShouldBe(0, nullTelemetry.Output);
        await withTelemetry.WaitForLineAsync("once-ran", timeout.Token);
        using var client = withTelemetry.CreateClient();
        while (true)
        {
            var status = JsonDocument.Parse(await client.GetStringAsync("/v3/status", timeout.Token)).RootElement;
            if (status.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == "once").GetProperty("state").GetString() == "completed")
            {
                break;
            }
            await Task.Delay(100, timeout.Token);
        }
        await agent.WaitUntilAsync(() => agent.State.GetCheck($"service:containerpilot-{Dns.GetHostName()}")?.Status == "passing", TimeSpan.FromSeconds(60), "telemetry heartbeat");

        (await client.GetAsync("/v3/ping", timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK, "the containerpilot job keeps Pilot running");
        withTelemetry.Signal(SIGTERM);
        (await withTelemetry.WaitForExitAsync(timeout.Token)).ShouldBe(0, withTelemetry.Output);
        agent.Requests.ShouldContain(r => r.Path == $"/v1/agent/service/deregister/containerpilot-{Dns.GetHostName()}");
    }
}
