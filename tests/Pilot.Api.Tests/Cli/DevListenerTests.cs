using System.Net;
using System.Text.RegularExpressions;
using Pilot.Api.Control;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Cli;

/// <summary>
/// <c>-dev-http</c>: the opt-in plain-HTTP listener of the real <c>pilot</c> binary, and Swagger UI on it opened in a real
/// headless Chromium (Debian's <c>chromium</c>, driven by playwright-core from tests/browser).
/// </summary>
public sealed partial class DevListenerTests
{
    private const int SIGHUP = 1;

    private const string Config = """
        {
          control: { socket: "SOCKET" },
          jobs: [
            { name: "app", exec: "sleep 600" },
            { name: "printer", exec: ["sh", "-c", "echo printed=$BROWSER_SET"], when: { source: "SIGHUP" } },
          ],
        }
        """;

    private static string BrowserTests => Path.Combine(Checkout.Root, "tests/browser");

    private static async Task<(RunningPilot Pilot, Uri Address)> StartAsync(CancellationToken cancellationToken)
    {
        var pilot = RunningPilot.Start(Config, arguments: ["-dev-http", "127.0.0.1:0"]);
        var warning = await pilot.WaitForLineAsync("also serving over plain HTTP at ", cancellationToken);
        return (pilot, new Uri(ListenerAddress().Match(warning).Value));
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex ListenerAddress();

    [Fact]
    public async Task SwaggerUi_ListsTheOperations_AndTryItOutWorks_InHeadlessChromium()
    {
        File.Exists("/usr/bin/chromium").ShouldBeTrue("Debian's chromium is missing: ./scripts/install-deps test installs it");
        Directory.Exists(Path.Combine(BrowserTests, "node_modules/playwright-core"))
            .ShouldBeTrue("tests/browser/node_modules is missing: run `npm ci` in tests/browser (./scripts/test does it)");
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(2));
        var (pilot, address) = await StartAsync(timeout.Token);
        await using var _ = pilot;

        if (Images.StaticElf.Interpreter(Checkout.PilotBinary()) is null)
        {
            // The static binary has no Swagger UI (it needs OpenSSL): it says so, and the JIT pass runs the browser.
            using var http = new HttpClient { BaseAddress = address };
            using var page = await http.GetAsync("/swagger/index.html", timeout.Token);
            page.StatusCode.ShouldBe(HttpStatusCode.NotImplemented);
            (await page.Content.ReadAsStringAsync(timeout.Token)).ShouldContain("Swagger UI is not in the static pilot binary");
            return;
        }
        var browser = await PilotProcess.RunProgramAsync(
            "node", ["swagger-ui.mjs", address.ToString(), "BROWSER_SET", "from-swagger-ui"], timeout.Token, workingDirectory: BrowserTests);

        browser.ExitCode.ShouldBe(0, browser.Output);
        var operations = browser.Stdout.Split('\n').Single(l => l.StartsWith("operations: ", StringComparison.Ordinal)).Split(' ');
        operations.ShouldContain("/v3/ping");
        operations.ShouldContain("/v3/environ");
        operations.ShouldContain("/v3/jobs/{name}/restart");
        browser.Stdout.ShouldContain("ping: 200 {\"ok\":true}");
        browser.Stdout.ShouldContain("environ: 200 {\"ok\":true}");
        // The state changed: a child started after "Try it out" sees the variable.
        pilot.Signal(SIGHUP);
        (await pilot.WaitForLineAsync("printed=", timeout.Token)).ShouldEndWith("printed=from-swagger-ui");
    }

    [Fact]
    public async Task DevListener_RefusesOtherHostNamesAndOtherOrigins_AndWarnsWhenOn()
    {
        using var timeout = PilotProcess.Timeout();
        var (pilot, address) = await StartAsync(timeout.Token);
        await using var _ = pilot;
        using var http = new HttpClient { BaseAddress = address };

        async Task<HttpStatusCode> SendAsync(HttpMethod method, string? host = null, string? origin = null)
        {
            using var request = new HttpRequestMessage(method, "/v3/environ") { Content = method == HttpMethod.Post ? Http.Json("""{"X":"1"}""") : null };
            if (host is not null)
            {
                request.Headers.Host = host;
            }
            if (origin is not null)
            {
                request.Headers.Add("Origin", origin);
            }
            using var response = await http.SendAsync(request, timeout.Token);
            return response.StatusCode;
        }

        (await SendAsync(HttpMethod.Post)).ShouldBe(HttpStatusCode.OK);
        (await SendAsync(HttpMethod.Post, origin: address.GetLeftPart(UriPartial.Authority))).ShouldBe(HttpStatusCode.OK);
        (await SendAsync(HttpMethod.Post, host: $"localhost:{address.Port}")).ShouldBe(HttpStatusCode.OK);
        (await SendAsync(HttpMethod.Post, host: $"rebound.example:{address.Port}")).ShouldBe(HttpStatusCode.Forbidden);
        (await SendAsync(HttpMethod.Post, origin: "http://evil.example")).ShouldBe(HttpStatusCode.Forbidden);
        (await http.GetAsync("/swagger/index.html", timeout.Token)).StatusCode.ShouldBe(
            Images.StaticElf.Interpreter(Checkout.PilotBinary()) is null ? HttpStatusCode.NotImplemented : HttpStatusCode.OK);
        pilot.Lines.ShouldContain(l => l.Contains("development only, no authentication", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("8088")]
    [InlineData("example.com:8088")]
    [InlineData("127.0.0.1:99999")]
    public async Task DevHttp_Exits2_ForAnAddressThatIsNotHostAndPort(string value)
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await PilotProcess.RunAsync(["-config", "unused.json5", "-dev-http", value], timeout.Token);

        outcome.ExitCode.ShouldBe(2);
        outcome.Stderr.ShouldStartWith($"invalid value \"{value}\" for flag -dev-http: want HOST:PORT, e.g. 127.0.0.1:8088\n");
    }

    [Theory]
    [InlineData("127.0.0.1:8088", "127.0.0.1", 8088)]
    [InlineData("localhost:0", "127.0.0.1", 0)]
    [InlineData("[::1]:80", "::1", 80)]
    [InlineData("0.0.0.0:8088", "0.0.0.0", 8088)]
    public void DevListener_ParsesHostAndPort(string text, string address, int port)
    {
        DevListener.TryParse(text, out var listener).ShouldBeTrue();

        listener!.EndPoint.ShouldBe(new IPEndPoint(IPAddress.Parse(address), port));
    }
}
