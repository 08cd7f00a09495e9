using System.Net;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part A §5 (control plane) on the real binary's socket.</summary>
public sealed class ControlPlaneTests
{
    private const int SIGHUP = 1, SIGTERM = 15;

    private static async Task<HttpStatusCode> SendAsync(HttpClient client, HttpMethod method, string path, string? body, CancellationToken token)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body) };
        using var response = await client.SendAsync(request, token);
        return response.StatusCode;
    }

    /// <summary>
    /// v3's status codes: 200 on success (ping on any method), 405 for a wrong method, 404 for an unknown path, 422
    /// for a bad body; every routed reply counted in <c>containerpilot_control_http_requests{code,path}</c>, unknown
    /// paths not.
    /// </summary>
    [Fact]
    public async Task Routes_AnswerV3sStatusCodes_AndRoutedRepliesAreCounted()
    {
        using var timeout = PilotProcess.Timeout();
        var port = LoopbackPort.Free();
        await using var pilot = RunningPilot.Start($$"""
            {
              control: { socket: "SOCKET" },
              telemetry: { port: {{port}}, interfaces: ["static:127.0.0.1"] },
              jobs: [ { name: "app", exec: "sleep 600" } ],
            }
            """);
        await pilot.WaitForSocketAsync(timeout.Token);
        using var client = pilot.CreateClient();
        var token = timeout.Token;

        (await SendAsync(client, HttpMethod.Get, "/v3/ping", null, token)).ShouldBe(HttpStatusCode.OK);
        (await SendAsync(client, HttpMethod.Post, "/v3/ping", "ignored", token)).ShouldBe(HttpStatusCode.OK);
        (await SendAsync(client, HttpMethod.Delete, "/v3/ping", null, token)).ShouldBe(HttpStatusCode.OK);
        (await SendAsync(client, HttpMethod.Post, "/v3/environ", """{"A":"x"}""", token)).ShouldBe(HttpStatusCode.OK);
        foreach (var path in new[] { "/v3/environ", "/v3/metric", "/v3/reload", "/v3/maintenance/enable", "/v3/maintenance/disable" })
        {
            (await SendAsync(client, HttpMethod.Get, path, null, token)).ShouldBe(HttpStatusCode.MethodNotAllowed, path);
        }
        (await SendAsync(client, HttpMethod.Put, "/v3/environ", "{}", token)).ShouldBe(HttpStatusCode.MethodNotAllowed);
        (await SendAsync(client, HttpMethod.Post, "/v3/nope", null, token)).ShouldBe(HttpStatusCode.NotFound);
        (await SendAsync(client, HttpMethod.Get, "/v2/ping", null, token)).ShouldBe(HttpStatusCode.NotFound);
        (await SendAsync(client, HttpMethod.Post, "/v3/environ", "not json", token)).ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await SendAsync(client, HttpMethod.Post, "/v3/metric", "[1]", token)).ShouldBe(HttpStatusCode.UnprocessableEntity);
        await LoopbackPort.WaitUntilListenedOnAsync(port, timeout.Token);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var metrics = await http.GetStringAsync("/metrics", token);

        var counted = metrics.Split('\n').Where(l => l.StartsWith("containerpilot_control_http_requests{", StringComparison.Ordinal)).ToList();
        var all = string.Join('\n', counted);
        // The fixture's readiness wait pings too: at least the three pings sent here are counted.
        counted.ShouldContain(l => l.StartsWith("containerpilot_control_http_requests{code=\"200\",path=\"/v3/ping\"} ", StringComparison.Ordinal), all);
        counted.ShouldContain("containerpilot_control_http_requests{code=\"200\",path=\"/v3/environ\"} 1", all);
        counted.ShouldContain("containerpilot_control_http_requests{code=\"405\",path=\"/v3/environ\"} 2", all);
        counted.ShouldContain("containerpilot_control_http_requests{code=\"405\",path=\"/v3/reload\"} 1", all);
        counted.ShouldContain("containerpilot_control_http_requests{code=\"422\",path=\"/v3/environ\"} 1", all);
        counted.ShouldContain("containerpilot_control_http_requests{code=\"422\",path=\"/v3/metric\"} 1", all);
        counted.ShouldNotContain(l => l.Contains("nope", StringComparison.Ordinal) || l.Contains("/v2/", StringComparison.Ordinal), all);
    }

    /// <summary>
    /// <c>/v3/environ</c>: each string is set in Pilot's environment for processes started later (<c>null</c> sets an
    /// empty value, nothing is unset); a body that is not a JSON object of strings is refused with 422 and sets
    /// nothing; a literal <c>null</c> body is a no-op 200.
    /// </summary>
    [Fact]
    public async Task Environ_SetsVariablesForLaterProcesses_AndRefusesWhatV3Refuses()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "app", exec: "sleep 600" },
                { name: "show", exec: ["sh", "-c", "echo show A=[${A-unset}] B=[${B-unset}] C=[${C-unset}] KEEP=[${KEEP-unset}]"], when: { source: "SIGHUP" } },
              ],
            }
            """, environment: new Dictionary<string, string> { ["KEEP"] = "kept" });
        await pilot.WaitForSocketAsync(timeout.Token);
        using var client = pilot.CreateClient();
        var token = timeout.Token;

        (await SendAsync(client, HttpMethod.Post, "/v3/environ", """{"A":"x=y","B":null}""", token)).ShouldBe(HttpStatusCode.OK);
        (await SendAsync(client, HttpMethod.Post, "/v3/environ", "null", token)).ShouldBe(HttpStatusCode.OK);
        (await SendAsync(client, HttpMethod.Post, "/v3/environ", "", token)).ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await SendAsync(client, HttpMethod.Post, "/v3/environ", "[\"C\"]", token)).ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await SendAsync(client, HttpMethod.Post, "/v3/environ", """{"C":"c","D":1}""", token)).ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await SendAsync(client, HttpMethod.Post, "/v3/environ", """{"C":"c""", token)).ShouldBe(HttpStatusCode.UnprocessableEntity);
        pilot.Signal(SIGHUP);

        (await pilot.WaitForLineAsync(" show A=", token)).ShouldEndWith("show A=[x=y] B=[] C=[unset] KEEP=[kept]");
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(token)).ShouldBe(0, pilot.Output);
    }

    /// <summary>
    /// A reload re-reads the same path, renders it with the current environment (including what <c>/v3/environ</c>
    /// set, and the <c>_IP</c> variables of service jobs once they exist) and publishes a new <c>startup</c>: jobs on
    /// <c>each: startup</c> run again; an unchanged one-shot job that already ran does not.
    /// </summary>
    [Fact]
    public async Task Reload_RunsStartupJobsAgain_AndKeepsEnvironment()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "app", exec: "sleep 600" },
                { name: "init", exec: "echo init-ran" },
                { name: "each-startup", exec: "echo startup-seen", when: { source: "global", each: "startup" } },
              ],
            }
            """);
        await pilot.WaitForLineAsync("init-ran", timeout.Token);
        await pilot.WaitForLineAsync("startup-seen", timeout.Token);
        using var client = pilot.CreateClient();
        (await SendAsync(client, HttpMethod.Post, "/v3/environ", """{"GREETING":"hello"}""", timeout.Token)).ShouldBe(HttpStatusCode.OK);
        pilot.WriteConfig("""
            {
              consul: "127.0.0.1:1",
              control: { socket: "SOCKET" },
              jobs: [
                { name: "app", exec: "sleep 600" },
                { name: "init", exec: "echo init-ran" },
                { name: "each-startup", exec: "echo startup-seen", when: { source: "global", each: "startup" } },
                { name: "web", exec: "sleep 600", port: 80, interfaces: ["static:10.2.3.4"], health: { exec: "true", interval: 600, ttl: 900 } },
                { name: "greeter", exec: ["sh", "-c", "echo rendered={{ .GREETING }} web={{ .CONTAINERPILOT_WEB_IP }}"] },
              ],
            }
            """);

        (await SendAsync(client, HttpMethod.Post, "/v3/reload", null, timeout.Token)).ShouldBe(HttpStatusCode.OK);

        // `startup` is published again (v3), so `each: startup` runs again; the unchanged one-shot `init` that already ran
        // is kept completed, not run again (issue 29: a reload re-runs nothing whose config did not change).
        await pilot.WaitForLineAsync("startup-seen", timeout.Token, occurrences: 2);
        (await pilot.WaitForLineAsync("rendered=", timeout.Token)).ShouldEndWith("rendered=hello web=");
        (await pilot.WaitForLineAsync("config reloaded", timeout.Token)).ShouldEndWith("config reloaded: 0 job(s) stopped, 2 started");
        pilot.Lines.Count(l => l.Contains("init-ran", StringComparison.Ordinal)).ShouldBe(1);
        // The next reload's render sees the service's _IP variable, set once it was built.
        (await SendAsync(client, HttpMethod.Post, "/v3/reload", null, timeout.Token)).ShouldBe(HttpStatusCode.OK);
        (await pilot.WaitForLineAsync("rendered=", timeout.Token, occurrences: 2)).ShouldEndWith("rendered=hello web=10.2.3.4");
    }

    /// <summary>
    /// When every job has stopped the control server stops and Pilot exits at once, also with a client still
    /// reading <c>/v3/events</c> (v3 gives its control server 600 ms; an open stream held Pilot's exit for the
    /// host's whole shutdown timeout, <c>stopTimeout</c> + 15 s).
    /// </summary>
    [Fact]
    public async Task Shutdown_EndsOpenEventStreams_AndExitsPromptly()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""{ control: { socket: "SOCKET" }, jobs: [ { name: "app", exec: "sleep 600" } ] }""");
        await pilot.WaitForSocketAsync(timeout.Token);
        using var client = pilot.CreateClient();
        using var stream = await client.GetAsync("/v3/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var events = new StreamReader(await stream.Content.ReadAsStreamAsync(timeout.Token));
        (await events.ReadLineAsync(timeout.Token)).ShouldBe(": subscribed");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(12), "the host's shutdown timeout here is 20 s");
        (await events.ReadToEndAsync(timeout.Token)).ShouldContain("\"code\":\"shutdown\"");
    }
}
