using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Telemetry;

/// <summary>The real pilot with telemetry on loopback, checked by promtool and scraped by a real Prometheus.</summary>
public sealed class TelemetryEndpointTests
{
    private static RunningPilot StartPilot(int port) => RunningPilot.Start($$"""
        {
          control: { socket: "SOCKET" },
          telemetry: {
            port: {{port}},
            interfaces: ["static:127.0.0.1"],
            metrics: [
              { namespace: "app", name: "jobs_done_total", help: "jobs done", type: "counter" },
              { name: "queue_depth", help: "queue depth", type: "gauge" },
              { name: "latency_seconds", help: "latency", type: "histogram" },
              { name: "payload_bytes", help: "payload size", type: "summary" },
            ],
          },
          jobs: [
            { name: "app", exec: ["sh", "-c", "echo app-up; exec sleep 600"] },
            { name: "web", exec: "sleep 600", port: 8080, interfaces: ["static:10.9.8.7"], health: { exec: "true", interval: 1, ttl: 5 } },
          ],
        }
        """);

    private static async Task PutMetricsAsync(RunningPilot pilot, CancellationToken token)
    {
        using var client = pilot.CreateClient();
        using var body = new StringContent("""{"app__jobs_done_total": 3, "queue_depth": 42, "latency_seconds": 0.2, "payload_bytes": 512}""",
            System.Text.Encoding.UTF8, "application/json");
        (await client.PostAsync("/v3/metric", body, token)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Metrics_PassPromtool_AndStatusHasV3Shape()
    {
        using var timeout = PilotProcess.Timeout();
        var port = LoopbackPort.Free();
        await using var pilot = StartPilot(port);
        await pilot.WaitForSocketAsync(timeout.Token);
        await PutMetricsAsync(pilot, timeout.Token);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var exposition = await http.GetStringAsync("/metrics", timeout.Token);
        var status = JsonDocument.Parse(await http.GetStringAsync("/status", timeout.Token)).RootElement;
        var wrongMethod = await http.PostAsync("/status", null, timeout.Token);

        exposition.ShouldContain("app_jobs_done_total 3");
        exposition.ShouldContain("queue_depth 42");
        exposition.ShouldContain("containerpilot_events{code=\"Startup\",source=\"global\"} 1");
        exposition.ShouldContain("containerpilot_control_http_requests{code=\"200\",path=\"/v3/metric\"} 1");
        var (exitCode, lint) = await PromtoolCheckAsync(exposition, timeout.Token);
        // Exit 3 is lint only: v3's counter names (kept for compatibility) lack the `_total` suffix.
        exitCode.ShouldBeOneOf([0, 3], lint);
        foreach (var line in lint.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            line.ShouldMatch("^containerpilot_(events|control_http_requests) counter metrics should have \"_total\" suffix$");
        }

        status.GetProperty("Jobs")[0].GetProperty("Name").GetString().ShouldBe("app");
        var services = status.GetProperty("Services").EnumerateArray().ToList();
        services.Select(s => s.GetProperty("Name").GetString()).ShouldBe(["web", "containerpilot"]);
        services[0].GetProperty("Address").GetString().ShouldBe("10.9.8.7");
        services[0].GetProperty("Port").GetInt32().ShouldBe(8080);
        status.GetProperty("Watches").ValueKind.ShouldBe(JsonValueKind.Null);
        wrongMethod.StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task RealPrometheus_ScrapesPilot_AndSeesEveryMetricType()
    {
        using var timeout = PilotProcess.Timeout();
        var port = LoopbackPort.Free();
        await using var pilot = StartPilot(port);
        await pilot.WaitForSocketAsync(timeout.Token);
        await pilot.WaitForLineAsync("telemetry: serving at", timeout.Token);
        await PutMetricsAsync(pilot, timeout.Token);
        var prometheusPort = LoopbackPort.Free();
        var dir = Path.Combine(pilot.Directory, "prometheus");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "prometheus.yml"), $"""
            global: {"{"} scrape_interval: 1s, evaluation_interval: 1s {"}"}
            scrape_configs:
              - job_name: pilot
                static_configs: [ {"{"} targets: ["127.0.0.1:{port}"] {"}"} ]
            """, timeout.Token);
        using var prometheus = Process.Start(new ProcessStartInfo(Tool("prometheus"))
        {
            ArgumentList =
            {
                "--config.file=" + Path.Combine(dir, "prometheus.yml"), "--storage.tsdb.path=" + Path.Combine(dir, "data"),
                $"--web.listen-address=127.0.0.1:{prometheusPort}",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        _ = prometheus.StandardOutput.ReadToEndAsync(timeout.Token);
        _ = prometheus.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{prometheusPort}") };

            // A first scrape that overran its 1 s timeout on a loaded machine reads 0: wait for a scrape that got through.
            while (await QueryAsync(api, "up{job=\"pilot\"}", timeout.Token) != 1)
            {
                await Task.Delay(200, timeout.Token);
            }
            (await QueryAsync(api, "app_jobs_done_total", timeout.Token)).ShouldBe(3);
            (await QueryAsync(api, "queue_depth", timeout.Token)).ShouldBe(42);
            (await QueryAsync(api, "latency_seconds_count", timeout.Token)).ShouldBe(1);
            (await QueryAsync(api, "payload_bytes_sum", timeout.Token)).ShouldBe(512);
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync(CancellationToken.None);
        }
    }

    /// <summary>Polls the query API until the expression has a value (Prometheus needs a scrape or two).</summary>
    private static async Task<double> QueryAsync(HttpClient api, string expression, CancellationToken token)
    {
        while (true)
        {
            try
            {
                var body = await api.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(expression), token);
                var result = JsonDocument.Parse(body).RootElement.GetProperty("data").GetProperty("result");
                if (result.GetArrayLength() > 0)
                {
                    return double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                }
            }
            catch (HttpRequestException)
            {
                // Prometheus is still starting.
            }
            await Task.Delay(250, token);
        }
    }

    private static string Tool(string name)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
        return path ?? throw new InvalidOperationException($"'{name}' is not installed: run ./scripts/install-deps test (Debian package prometheus)");
    }

    private static async Task<(int ExitCode, string Output)> PromtoolCheckAsync(string exposition, CancellationToken token)
    {
        using var promtool = Process.Start(new ProcessStartInfo(Tool("promtool"), "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        await promtool.StandardInput.WriteAsync(exposition);
        promtool.StandardInput.Close();
        var output = await promtool.StandardOutput.ReadToEndAsync(token) + await promtool.StandardError.ReadToEndAsync(token);
        await promtool.WaitForExitAsync(token);
        return (promtool.ExitCode, output);
    }
}
