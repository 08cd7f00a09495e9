using System.Collections.Immutable;
using System.Net;
using System.Text.Json;
using Pilot.Api.Tests.Support;
using Pilot.ConsulTestAgent;
using Shouldly;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Api.Tests.Images;

/// <summary>
/// The shipped static binary as PID 1 in a root with no glibc (busybox-static and musl, as an Alpine image): everything a
/// ContainerPilot image relies on works there, with no loader and no libc of the image involved.
/// </summary>
public sealed class NoGlibcRootTests
{
    private const int SIGHUP = 1, SIGUSR1 = 10, SIGUSR2 = 12, SIGTERM = 15;
    private const string ConsulName = "consul.pilot.test";

    [Fact]
    public async Task StaticPilot_InARootWithoutGlibc_RunsEverythingAContainerPilotImageUses()
    {
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(3));
        using var root = ImageRoot.WithoutGlibc();
        root.GlibcFiles().ShouldBeEmpty();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        await using var dns = StubDns.Start(new Dictionary<string, IPAddress> { [ConsulName] = IPAddress.Loopback });
        root.Write("/etc/resolv.conf", dns.ResolvConf);
        // Services glibc would dlopen (none exist here): Pilot uses its built-in files and dns whatever the image says.
        root.Write("/etc/nsswitch.conf", "hosts: myhostname\npasswd: systemd\ngroup: systemd\n");
        root.Write("/www/health", "ok\n");
        var webPort = LoopbackPort.Free();
        var telemetryPort = LoopbackPort.Free();
        var config = $$"""
            {
              consul: "{{ConsulName}}:{{agent.Port}}",
              control: { socket: "/tmp/pilot.sock" },
              telemetry: {
                port: {{telemetryPort}}, interfaces: ["static:127.0.0.1"],
                metrics: [ { namespace: "app", subsystem: "root", name: "hits", help: "hits", type: "counter" } ],
              },
              watches: [ { name: "backend", interval: 1 } ],
              jobs: [
                { name: "web", exec: ["httpd", "-f", "-p", "127.0.0.1:{{webPort}}", "-h", "/www"], port: {{webPort}},
                  health: { http: "http://127.0.0.1:{{webPort}}/health", interval: 1, ttl: 5 } },
                { name: "tcp-checked", exec: ["sleep", "600"], health: { tcp: "127.0.0.1:{{webPort}}", interval: 1, ttl: 5 } },
                { name: "exec-checked", exec: ["sleep", "600"], health: { exec: ["true"], interval: 1, ttl: 5 } },
                { name: "after-web", exec: ["echo", "web-is-healthy"], when: { source: "web", once: "healthy" } },
                { name: "as-app", exec: ["sh", "-c", "echo as-app $(id)"], user: "app" },
                { name: "as-staff", exec: ["sh", "-c", "echo as-staff $(id)"], user: "app", group: "staff" },
                { name: "orphans", exec: ["sh", "-c", "for i in 1 2 3 4 5; do (sleep 0.2 &); done; echo orphans-made"] },
                { name: "on-hup", exec: ["echo", "hup-job-ran"], when: { source: "SIGHUP" } },
                { name: "on-usr2", exec: ["echo", "usr2-job-ran"], when: { source: "SIGUSR2" } },
                { name: "on-backend", exec: ["echo", "backend-changed"], when: { source: "watch.backend", each: "changed" } },
              ],
            }
            """;
        await using var pilot = await RootedPilot.StartAsync(root, config, timeout.Token);

        // Jobs, `when` events, user and group switching (names from the root's /etc/passwd and /etc/group).
        await pilot.WaitForLineAsync("web-is-healthy", timeout.Token);
        (await pilot.WaitForLineAsync("as-app ", timeout.Token)).ShouldContain("uid=1000(app) gid=1000(app) groups=50(staff),1000(app)");
        (await pilot.WaitForLineAsync("as-staff ", timeout.Token)).ShouldContain("uid=1000(app) gid=50(staff)");
        // Orphans re-parented to Pilot (PID 1) are reaped.
        await pilot.WaitForLineAsync("orphans-made", timeout.Token);
        await WaitUntilAsync(() => pilot.Children() is var children && !children.Any(c => c.State == 'Z' || c.CommandLine == "sleep 0.2"),
            "the orphans ended and reaped: no zombie child of Pilot", timeout.Token);

        // Exec, HTTP and TCP health checks: all healthy, as the client inside the root reports them.
        var lastStatus = "";
        await WaitUntilAsync(async () =>
        {
            var status = await pilot.ClientAsync(timeout.Token, "status", "-json");
            lastStatus = status.Output;
            var jobs = JsonDocument.Parse(status.Stdout).RootElement.GetProperty("jobs").EnumerateArray()
                .ToDictionary(j => j.GetProperty("name").GetString()!, j => j.GetProperty("health").GetString());
            return jobs["web"] == "healthy" && jobs["tcp-checked"] == "healthy" && jobs["exec-checked"] == "healthy";
        }, () => $"web, tcp-checked and exec-checked healthy in `pilot status -json`; last:\n{lastStatus}\n{pilot.Output}", timeout.Token);

        // Consul by host name (the stub DNS server of the root's resolv.conf): registration, heartbeats, a watch.
        await agent.WaitUntilAsync(() => agent.State.Services.Any(s => s.Name == "web"), TimeSpan.FromSeconds(60), "web registered");
        dns.Queries.ShouldContain("A " + ConsulName);
        agent.State.Register(
            new AgentService { Id = "backend-1", Name = "backend", Address = "10.0.0.1", Port = 80 },
            ImmutableArray.Create(new AgentCheck { CheckId = "service:backend-1", Name = "check", Status = CheckStatus.Passing }));
        await pilot.WaitForLineAsync("backend-changed", timeout.Token);

        // The client flags and commands, run inside the root.
        (await pilot.ClientAsync(timeout.Token, "-ping")).Stdout.Trim().ShouldBe("ok");
        (await pilot.ClientAsync(timeout.Token, "-putenv", "FROM_CLIENT=yes")).ExitCode.ShouldBe(0);
        (await pilot.ClientAsync(timeout.Token, "-putmetric", "app_root_hits=3")).ExitCode.ShouldBe(0);
        (await pilot.ClientAsync(timeout.Token, "-maintenance", "enable")).ExitCode.ShouldBe(0);
        (await pilot.ClientAsync(timeout.Token, "-maintenance", "disable")).ExitCode.ShouldBe(0);
        var status = await pilot.ClientAsync(timeout.Token, "status");
        status.ExitCode.ShouldBe(0, status.Output);
        status.Stdout.ShouldContain("tcp-checked");
        var logs = await pilot.ClientAsync(timeout.Token, "logs", "as-app");
        logs.ExitCode.ShouldBe(0, logs.Output);
        logs.Stdout.ShouldContain("uid=1000(app)");

        // Telemetry, scraped.
        using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{telemetryPort}") })
        {
            var metrics = await http.GetStringAsync("/metrics", timeout.Token);
            metrics.ShouldContain("app_root_hits 3");
            metrics.ShouldContain("containerpilot_events");
        }

        // Signals: the SIGHUP and SIGUSR2 jobs.
        pilot.Signal(SIGHUP);
        await pilot.WaitForLineAsync("hup-job-ran", timeout.Token);
        pilot.Signal(SIGUSR2);
        await pilot.WaitForLineAsync("usr2-job-ran", timeout.Token);

        // Reload from inside the root; the added job sees what -putenv set.
        root.Write(RootedPilot.ConfigPath, config.Replace(
            """{ name: "orphans",""", """{ name: "added", exec: ["sh", "-c", "echo added-after-reload FROM_CLIENT=$FROM_CLIENT"] }, { name: "orphans",""", StringComparison.Ordinal));
        var reload = await pilot.ClientAsync(timeout.Token, "-reload");
        reload.ExitCode.ShouldBe(0, reload.Output);
        (await pilot.WaitForLineAsync("added-after-reload", timeout.Token)).ShouldContain("FROM_CLIENT=yes");

        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldNotContain("internal error");
        pilot.Output.ShouldNotContain("Unhandled exception");
    }

    [Fact]
    public async Task Sigusr1_ReopensTheLogFile_InARootWithoutGlibc()
    {
        using var timeout = PilotProcess.Timeout();
        using var root = ImageRoot.WithoutGlibc();
        await using var pilot = await RootedPilot.StartAsync(root, """
            {
              logging: { output: "/tmp/pilot.log" },
              control: { socket: "/tmp/pilot.sock" },
              jobs: [
                { name: "app", exec: ["sleep", "600"] },
                { name: "on-hup", exec: ["echo", "hup-job-ran"], when: { source: "SIGHUP" } },
              ],
            }
            """, timeout.Token);
        var log = root.HostPath("/tmp/pilot.log");
        await WaitUntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("control: serving at", StringComparison.Ordinal), "the log file written", timeout.Token);
        File.Move(log, log + ".1");

        pilot.Signal(SIGUSR1);
        await WaitUntilAsync(() => File.Exists(log), "a new log file after SIGUSR1", timeout.Token);
        pilot.Signal(SIGHUP);

        await WaitUntilAsync(() => File.ReadAllText(log).Contains("hup-job-ran", StringComparison.Ordinal), "the job's line in the new file", timeout.Token);
        File.ReadAllText(log + ".1").ShouldNotContain("hup-job-ran");
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    /// <summary>
    /// The static binary has no TLS: an https Consul address and an https health check are refused, naming their fields,
    /// by <c>-validate</c> and at start (where the runtime would otherwise abort Pilot at the first TLS connection).
    /// </summary>
    [Fact]
    public async Task Https_WithoutAUsableTlsLibrary_IsRefusedInValidateAndAtStart_NamingTheFields()
    {
        using var timeout = PilotProcess.Timeout();
        using var root = ImageRoot.WithoutGlibc();
        const string config = """
            {
              consul: "https://consul.example:8501",
              control: { socket: "/tmp/pilot.sock" },
              jobs: [ { name: "web", exec: ["sleep", "600"], health: { http: "https://127.0.0.1:8443/health", interval: 1, ttl: 5 } } ],
            }
            """;

        foreach (var arguments in (string[])["-validate", ""])
        {
            await using var pilot = await RootedPilot.StartAsync(root, config, timeout.Token, arguments);
            (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(1, pilot.Output);
            pilot.Output.ShouldContain("consul: https://consul.example:8501 needs TLS, and this Pilot is the static binary, which has no TLS library");
            pilot.Output.ShouldContain("job[web].health.http 'https://127.0.0.1:8443/health' needs TLS");
            pilot.Output.ShouldNotContain("No usable version of libssl");
        }
    }

    internal static Task WaitUntilAsync(Func<bool> condition, string what, CancellationToken cancellationToken) =>
        WaitUntilAsync(() => Task.FromResult(condition()), () => what, cancellationToken);

    /// <summary>Polls <paramref name="condition"/> until it holds; on timeout, says <paramref name="what"/> was awaited.</summary>
    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> what, CancellationToken cancellationToken)
    {
        try
        {
            while (!await condition())
            {
                await Task.Delay(50, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException("timed out waiting for " + what());
        }
    }
}
