using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// What a container that runs under ContainerPilot v3 relies on, checked with the real <c>pilot</c> binary (also under
/// Native AOT in CI): the differences found by running real v3 configs and scenarios under both.
/// </summary>
public sealed class DropInTests
{
    private const int SIGTERM = 15;

    [Fact]
    public async Task Job_HasDevNullAsStdin_SoTailDashFStaysUp()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "keep", exec: ["tail", "-f"] },
                { name: "stdin", exec: ["sh", "-c", "echo stdin=$(readlink /proc/self/fd/0)"] },
                { name: "health-stdin", exec: ["sleep", "30"], health: { exec: ["sh", "-c", "echo check-stdin=$(readlink /proc/self/fd/0)"], interval: 1, ttl: 5, timeout: "30s" } },
                { name: "later", when: { source: "stdin", once: "exitSuccess" },
                  exec: ["sh", "-c", "sleep 0.5; kill -0 $CONTAINERPILOT_KEEP_PID && echo keep-alive=$(readlink /proc/$CONTAINERPILOT_KEEP_PID/fd/0)"] },
              ],
            }
            """);

        (await pilot.WaitForLineAsync("stdin=", timeout.Token)).ShouldEndWith("stdin=/dev/null");
        (await pilot.WaitForLineAsync("check-stdin=", timeout.Token)).ShouldEndWith("check-stdin=/dev/null");
        (await pilot.WaitForLineAsync("keep-alive=", timeout.Token)).ShouldEndWith("keep-alive=/dev/null", Case.Sensitive, pilot.Output);
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task JobPid_IsInTheEnvironmentOfEveryProcessStartedWhileItRuns_AndGoneAfter()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "my-app.v2", exec: ["sh", "-c", "echo app-pid=$$; exec sleep 30"] },
                { name: "short", exec: "true" },
                { name: "after-short", when: { source: "short", once: "exitSuccess" },
                  exec: ["sh", "-c", "echo seen-app=${CONTAINERPILOT_MY_APP_PID:-unset} seen-short=${CONTAINERPILOT_SHORT_PID:-unset} self=${CONTAINERPILOT_AFTER_SHORT_PID:-unset}"] },
                { name: "checked", exec: ["sleep", "30"],
                  health: { exec: ["sh", "-c", "echo check-sees-app=${CONTAINERPILOT_MY_APP_PID:-unset}"], interval: 1, ttl: 5, timeout: "30s" } },
              ],
            }
            """);

        var appPid = (await pilot.WaitForLineAsync("app-pid=", timeout.Token)).Split("app-pid=")[1];
        var seen = await pilot.WaitForLineAsync("seen-app=", timeout.Token);
        seen.ShouldEndWith($"seen-app={appPid} seen-short=unset self=unset", Case.Sensitive, pilot.Output);
        (await pilot.WaitForLineAsync("check-sees-app=", timeout.Token)).ShouldEndWith($"check-sees-app={appPid}");
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task JobPid_IsSeenByTheTemplateOfAReload()
    {
        using var timeout = PilotProcess.Timeout();
        const string Config = """
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "app", exec: ["sh", "-c", "echo app-pid=$$; exec sleep 30"] },
                { name: "render", exec: ["echo", "rendered=[{{ .CONTAINERPILOT_APP_PID }}]"] },
              ],
            }
            """;
        await using var pilot = RunningPilot.Start(Config);
        var appPid = (await pilot.WaitForLineAsync("app-pid=", timeout.Token)).Split("app-pid=")[1];
        (await pilot.WaitForLineAsync("rendered=", timeout.Token)).ShouldEndWith("rendered=[]");
        await pilot.WaitForSocketAsync(timeout.Token);

        using var client = pilot.CreateClient();
        (await client.PostAsync("/v3/reload", null, timeout.Token)).EnsureSuccessStatusCode();

        (await pilot.WaitForLineAsync("rendered=[", timeout.Token, occurrences: 2)).ShouldNotBeNull();
        pilot.Lines.Last(l => l.Contains("rendered=[", StringComparison.Ordinal)).ShouldEndWith($"rendered=[{appPid}]", Case.Sensitive, pilot.Output);
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Theory]
    [InlineData("\"eth9\"", "jobs[0].interfaces")]
    [InlineData("[\"inet6\", \"nosuch0:inet\"]", "jobs[0].interfaces")]
    public async Task ServiceInterfaces_MatchingNothingHere_AreRefusedAtStartAndInValidate(string interfaces, string path)
    {
        using var timeout = PilotProcess.Timeout();
        // inet6 matches any non-loopback IPv6 address: only test it where the machine has none, as v3 would refuse.
        var hasGlobalIpv6 = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Any(a => a.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !System.Net.IPAddress.IsLoopback(a.Address));
        if (interfaces.Contains("inet6", StringComparison.Ordinal) && hasGlobalIpv6)
        {
            interfaces = "[\"nosuch0:inet6\", \"nosuch1\"]";
        }
        var config = $$"""
            {
              consul: "127.0.0.1:1",
              control: { socket: "SOCKET" },
              jobs: [ { name: "web", exec: ["sleep", "30"], port: 8080, interfaces: {{interfaces}}, health: { exec: "true", interval: 1, ttl: 5, timeout: "30s" } } ],
            }
            """;
        await using var pilot = RunningPilot.Start(config);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(1, pilot.Output);
        pilot.Output.ShouldContain($"{path}: unable to parse jobs: none of the interface specifications were able to match");
        pilot.Output.ShouldContain("Interfaces IPs: [");
        pilot.Output.ShouldNotContain("sleep", Case.Sensitive, "no job may start");

        var validate = await PilotProcess.RunAsync(["-validate", "-config", pilot.ConfigPath], timeout.Token);
        validate.ExitCode.ShouldBe(1, validate.Stdout + validate.Stderr);
        validate.Stdout.ShouldContain("none of the interface specifications were able to match");
    }

    [Fact]
    public async Task TelemetryInterfaces_MatchingNothingHere_AreRefusedWithV3sText()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            { consul: "127.0.0.1:1", control: { socket: "SOCKET" }, telemetry: { port: 0, interfaces: ["nosuch0"] } }
            """);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(1, pilot.Output);
        pilot.Output.ShouldContain("telemetry.interfaces: telemetry validation error: none of the interface specifications were able to match");
        pilot.Output.ShouldNotContain("Unhandled exception");
    }

    [Fact]
    public async Task ConsulWithAnEmptyHost_DialsTheLocalHost_AsGoDoes()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await Pilot.ConsulTestAgent.ConsulTestAgent.StartAsync(cancellationToken: timeout.Token);
        var port = agent.Port;
        await using var pilot = RunningPilot.Start($$"""
            {
              consul: ":{{port}}",
              control: { socket: "SOCKET" },
              jobs: [ { name: "web", exec: ["sleep", "30"], port: 8080, interfaces: ["lo"], health: { exec: "true", interval: 1, ttl: 5, timeout: "30s" } } ],
            }
            """);

        await pilot.WaitForLineAsync("Service registered: web", timeout.Token);
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldNotContain("Unhandled exception");
    }

    /// <summary>Values that used to reach a throwing constructor (URI, timer, port, bucket list, file) and abort Pilot.</summary>
    [Theory]
    [InlineData("""consul: "[::1", jobs: [{ name: "web", exec: "true", port: 80, interfaces: ["lo"], health: { interval: 1, ttl: 2 } }]""", "consul: consul address '[::1' is not host:port")]
    [InlineData("""consul: "c:99999", jobs: [{ name: "web", exec: "true", port: 80, interfaces: ["lo"], health: { interval: 1, ttl: 2 } }]""", "consul: consul address 'c:99999' is not host:port")]
    [InlineData("""consul: "unix://", jobs: [{ name: "a", exec: "true" }]""", "consul: consul address 'unix://' has no socket path")]
    [InlineData("""consul: { address: "c:8500", scheme: "h t" }, jobs: [{ name: "a", exec: "true" }]""", "consul: Unknown protocol scheme: h t")]
    [InlineData("""consul: "c:8500", jobs: [{ name: "a", exec: "true", when: { interval: "2000h" } }]""", "jobs[0].when.interval: job[a].when.interval '2000h' cannot be more than 1193h2m47.294s")]
    [InlineData("""consul: "c:8500", jobs: [{ name: "a", exec: "true", timeout: "2000h" }]""", "jobs[0].timeout: job[a].timeout '2000h' cannot be more than")]
    [InlineData("""consul: "c:8500", jobs: [{ name: "a", exec: "true", when: { source: "b", once: "healthy", timeout: "9223372036854775807ns" } }]""", "jobs[0].when.timeout: job[a].when.timeout")]
    [InlineData("""consul: "c:8500", jobs: [{ name: "a", exec: "true", health: { exec: "true", interval: 99999999, ttl: 5 } }]""", "jobs[0].health.interval: job[a].health.interval '99999999' cannot be more than")]
    [InlineData("""consul: "c:8500", stopTimeout: 99999999999, jobs: [{ name: "a", exec: "true" }]""", "stopTimeout: stopTimeout '99999999999' cannot be more than")]
    [InlineData("""consul: "c:8500", watches: [{ name: "ab", interval: 99999999999 }]""", "watches[0].interval: watch[ab].interval '99999999999' cannot be more than")]
    [InlineData("""consul: "c:8500", telemetry: { port: 99999 }""", "telemetry.port: telemetry validation error: invalid port 99999")]
    [InlineData("""consul: { address: "https://c:8501", tls: { cafile: "/nonexistent/ca.pem", verify: true } }, jobs: [{ name: "a", exec: "true" }]""", "consul: open /nonexistent/ca.pem: no such file or directory")]
    [InlineData("""consul: { address: "c:8500", tls: { clientcert: "/nonexistent/c.crt", clientkey: "/nonexistent/c.key" } }, jobs: [{ name: "a", exec: "true" }]""", "consul: open /nonexistent/c.crt: no such file or directory")]
    [InlineData("""consul: "c:8500", telemetry: { port: 0, metrics: [{ name: "m", help: "h", type: "histogram", buckets: [3, 1] }] }""", "telemetry.metrics[0].buckets: histogram buckets must be finite and increasing")]
    public async Task ConfigValue_ThatNoConstructorTakes_IsAValidationErrorNamingTheField(string body, string expected)
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start($$"""{ control: { socket: "SOCKET" }, {{body}} }""");

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(1, pilot.Output);
        pilot.Output.ShouldContain(expected, Case.Sensitive, pilot.Output);
        pilot.Output.ShouldNotContain("Unhandled exception");
        var validate = await PilotProcess.RunAsync(["-validate", "-config", pilot.ConfigPath], timeout.Token);
        validate.ExitCode.ShouldBe(1);
        validate.Stdout.ShouldContain(expected, Case.Sensitive, validate.Stdout);
    }

    [Fact]
    public async Task LogOutput_ThatCannotBeOpened_IsV3sFatalError_NotACrash()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            { consul: "c:8500", control: { socket: "SOCKET" }, logging: { output: "/nonexistent-dir/pilot.log" }, jobs: [{ name: "a", exec: "true" }] }
            """);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(1, pilot.Output);
        pilot.Output.ShouldContain("Error initializing log file '/nonexistent-dir/pilot.log': ");
        pilot.Output.ShouldNotContain("Unhandled exception");
    }

    [Fact]
    public async Task RelativeControlSocket_IsBoundInTheWorkingDirectory_AsGoDoes()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            { consul: "c:8500", control: { socket: "relative.socket" }, jobs: [{ name: "a", exec: ["sleep", "30"] }] }
            """);
        var socket = Path.Combine(pilot.Directory, "relative.socket");
        using var client = Pilot.Api.Cli.ControlClient.CreateHttpClient(socket);
        while (!File.Exists(socket))
        {
            (pilot.Output.Contains("Unhandled exception", StringComparison.Ordinal)).ShouldBeFalse(pilot.Output);
            await Task.Delay(20, timeout.Token);
        }
        (await client.GetAsync("/v3/ping", timeout.Token)).IsSuccessStatusCode.ShouldBeTrue();
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    /// <summary>
    /// A minimal image or unusual runtime: no <c>/etc/resolv.conf</c>, no <c>/dev/urandom</c> (a mount namespace hides
    /// them from this Pilot only). It starts, runs jobs, checks, watches and metrics, and shuts down cleanly.
    /// </summary>
    [Fact]
    public async Task Pilot_RunsWithoutResolvConfAndDevUrandom()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await Pilot.ConsulTestAgent.ConsulTestAgent.StartAsync(cancellationToken: timeout.Token);
        const string Hide = """
            mount --make-rprivate / && d=$(mktemp -d) && cp -a /etc "$d/etc" && rm -f "$d/etc/resolv.conf" && mount --bind "$d/etc" /etc &&
            mkdir "$d/dev" && mount -t tmpfs none "$d/dev" && cp -a /dev/null /dev/zero /dev/full "$d/dev/" && mount --bind "$d/dev" /dev &&
            exec "$0" "$@"
            """;
        await using var pilot = RunningPilot.Start($$"""
            {
              consul: ":{{agent.Port}}",
              control: { socket: "SOCKET" },
              logging: { level: "debug" },
              jobs: [
                { name: "probe", exec: ["sh", "-c", "echo \"found:\" resolv=$(test -e /etc/resolv.conf && echo yes || echo no) urandom=$(test -e /dev/urandom && echo yes || echo no)"] },
                { name: "web", exec: ["sleep", "30"], port: 8080, interfaces: ["lo"], health: { exec: "true", interval: 1, ttl: 5, timeout: "30s" } },
                { name: "tick", exec: "true", when: { interval: "1s" }, timeout: "30s" },
              ],
              watches: [ { name: "other", interval: 1 } ],
              telemetry: { port: 0, interfaces: ["lo"], metrics: [{ name: "hits", help: "h", type: "counter" }] },
            }
            """, wrapper: ["unshare", "--mount", "sh", "-c", Hide]);

        (await pilot.WaitForLineAsync("found: resolv=", timeout.Token)).ShouldEndWith("found: resolv=no urandom=no");
        await pilot.WaitForLineAsync("Service registered: web", timeout.Token);
        await pilot.WaitForLineAsync("tick exited without error", timeout.Token, occurrences: 2);
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldNotContain("internal error");
        pilot.Output.ShouldNotContain("failed on");
        pilot.Output.ShouldNotContain("exception", Case.Insensitive);
    }

    /// <summary>v3's own log lines, verbatim at v3's levels, in each format: scripts and log pipelines grep them.</summary>
    [Theory]
    [InlineData("default")]
    [InlineData("text")]
    [InlineData("json")]
    public async Task V3LogLines_AreVerbatim_AtV3sLevels(string format)
    {
        using var timeout = PilotProcess.Timeout();
        var config = $$"""
            {
              consul: "127.0.0.1:1",
              control: { socket: "SOCKET" },
              logging: { level: "debug", format: "{{format}}" },
              jobs: [ { name: "app", exec: ["sleep", "30"] } ],
            }
            """;
        await using var pilot = RunningPilot.Start(config);
        await pilot.WaitForSocketAsync(timeout.Token);
        using var client = pilot.CreateClient();
        (await client.PostAsync("/v3/reload", null, timeout.Token)).EnsureSuccessStatusCode();
        await pilot.WaitForLineAsync("reloaded app via control plane", timeout.Token);
        pilot.WriteConfig("{ consul: 1 }");
        (await client.PostAsync("/v3/reload", null, timeout.Token)).IsSuccessStatusCode.ShouldBeFalse();
        await pilot.WaitForLineAsync("error initializing config: ", timeout.Token);
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);

        var messages = pilot.Lines.Select(line => LogMessage(format, line)).Where(m => m.Message.Length > 0).ToList();
        string[] Levels(string message) => [.. messages.Where(m => m.Message == message).Select(m => m.Level)];
        var loaded = messages.Where(m => m.Message.StartsWith("loaded config: {", StringComparison.Ordinal)).ToList();
        loaded.Count.ShouldBe(2, pilot.Output);
        loaded.ShouldAllBe(m => m.Level == "debug");
        System.Text.Json.JsonDocument.Parse(loaded[0].Message["loaded config: ".Length..]).RootElement.GetProperty("jobs")[0].GetProperty("name").GetString().ShouldBe("app");
        // At start, and again after the accepted reload (v3 restarted its control server; the refused one prints nothing).
        Levels("control: serving at " + pilot.SocketPath).ShouldBe(["info", "info"], pilot.Output);
        Levels("control: listening to " + pilot.SocketPath).ShouldBe(["debug", "debug"]);
        Levels("control: initialized router for control server").ShouldBe(["debug", "debug"]);
        Levels("control: reloading app via control plane").ShouldBe(["debug", "debug"]);
        Levels("control: reloaded app via control plane").ShouldBe(["debug"]);
        messages.Single(m => m.Message.StartsWith("error initializing config: ", StringComparison.Ordinal)).Level.ShouldBe("error");
        // For the accepted reload, and at shutdown.
        Levels("control: stopping control server").ShouldBe(["debug", "debug"]);
        Levels("control: stopped serving at " + pilot.SocketPath).ShouldBe(["debug", "debug"]);
        Levels("control: completed graceful shutdown of control server").ShouldBe(["debug", "debug"]);
    }

    [Fact]
    public async Task V3LogLines_AtTheDefaultLevel_ShowServingButNotTheDebugOnes()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""{ consul: "127.0.0.1:1", control: { socket: "SOCKET" }, jobs: [ { name: "app", exec: ["sleep", "30"] } ] }""");
        await pilot.WaitForLineAsync("control: serving at " + pilot.SocketPath, timeout.Token);
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldNotContain("loaded config:");
        pilot.Output.ShouldNotContain("control: listening to");
    }

    [Fact]
    public async Task TelemetryServingLine_IsHostColonPort_AsGoPrintsAnAddress()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""{ consul: "127.0.0.1:1", control: { socket: "SOCKET" }, telemetry: { port: 0, interfaces: ["lo"] } }""");

        var line = await pilot.WaitForLineAsync("telemetry: serving at ", timeout.Token);
        line.ShouldMatch(@"telemetry: serving at 127\.0\.0\.1:[0-9]+$");
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    /// <summary>The level and message of one of Pilot's own lines (job output lines have fields and are left out).</summary>
    private static (string Level, string Message) LogMessage(string format, string line)
    {
        switch (format)
        {
            case "json":
                using (var document = System.Text.Json.JsonDocument.Parse(line))
                {
                    var root = document.RootElement;
                    return root.TryGetProperty("job", out _) ? ("", "") : (root.GetProperty("level").GetString()!, root.GetProperty("msg").GetString()!);
                }
            case "text":
                var match = System.Text.RegularExpressions.Regex.Match(line, "^time=\"[^\"]+\" level=(\\w+) msg=(\".*\"|\\S+) $");
                return match.Success ? (match.Groups[1].Value, match.Groups[2].Value.Trim('"')) : ("", "");
            default:
                // The default format has no level: v3 prints debug lines only at level debug, which the test sets.
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                var message = line[(space + 1)..];
                return (message.StartsWith("control: serving at", StringComparison.Ordinal) ? "info"
                    : message.StartsWith("error initializing", StringComparison.Ordinal) ? "error" : "debug", message);
        }
    }
}
