using System.Diagnostics;
using System.Text.Json;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Cli;

/// <summary>
/// Issue 29, items 3, 4 and 6, with the real binary as client and as supervisor: Pilot's commands need only
/// <c>control.socket</c> (read leniently, <c>-socket</c>, <c>$PILOT_SOCKET</c>); <c>-validate</c> prints errors and warnings
/// at once and start-up prints each warning once; consistent client output.
/// </summary>
public sealed class OperatorClientTests
{
    private const string Config = """
        {
          control: { socket: "SOCKET" },
          jobs: [
            { name: "app", exec: ["sh", "-c", "echo app-up; exec sleep 600"] },
            { name: "tick", exec: ["sh", "-c", "echo tick-ran"], when: { interval: "300ms" } },
          ],
        }
        """;

    private static Task<PilotProcess.Outcome> Run(CancellationToken token, IDictionary<string, string>? environment, params string[] args) =>
        PilotProcess.RunAsync(args, token, environment);

    [Fact]
    public async Task Commands_KeepWorking_WhileTheFileOnDiskIsInvalid_AndV3FlagsStillLoadTheWholeConfig()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start(Config);
        await pilot.WaitForSocketAsync(timeout.Token);
        await pilot.WaitForLineAsync("app-up", timeout.Token);

        // Mid-edit: a bad duration saved; Pilot runs the old config.
        pilot.WriteConfig(Config.Replace("\"300ms\"", "\"300xs\"", StringComparison.Ordinal));
        var status = await Run(timeout.Token, null, "status", "-config", pilot.ConfigPath);
        var logs = await Run(timeout.Token, null, "logs", "app", "-config", pilot.ConfigPath);
        var reload = await Run(timeout.Token, null, "-config", pilot.ConfigPath, "-reload");

        status.ExitCode.ShouldBe(0, status.Output);
        status.Stdout.ShouldContain("app ");
        status.Stderr.ShouldBe($"warning: {pilot.ConfigPath} has 1 error(s) ('pilot -validate' lists them); using its control.socket {pilot.SocketPath}\n");
        logs.ExitCode.ShouldBe(0, logs.Output);
        logs.Stdout.ShouldContain("app-up");
        reload.ExitCode.ShouldBe(1, "v3's flags load the whole config, as v3 does");
        reload.Stdout.ShouldContain("jobs[1].when.interval");
    }

    [Fact]
    public async Task Commands_TakeTheSocketFromTheFlagOrTheVariable_WhenTheFileCannotBeRead()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start(Config);
        await pilot.WaitForSocketAsync(timeout.Token);
        // Not even JSON5 any more.
        pilot.WriteConfig("{ control: { socket: ");

        var broken = await Run(timeout.Token, null, "status", "-config", pilot.ConfigPath);
        var flag = await Run(timeout.Token, null, "status", "-config", pilot.ConfigPath, "-socket", pilot.SocketPath);
        var variable = await Run(timeout.Token, new Dictionary<string, string> { ["PILOT_SOCKET"] = pilot.SocketPath }, "status");

        broken.ExitCode.ShouldBe(1);
        broken.Stderr.ShouldEndWith($"cannot find the control socket in {pilot.ConfigPath}: give it with -socket PATH or $PILOT_SOCKET\n");
        flag.ExitCode.ShouldBe(0, flag.Output);
        flag.Stdout.ShouldContain("app ");
        flag.Stderr.ShouldBeEmpty();
        variable.ExitCode.ShouldBe(0, variable.Output);
        variable.Stdout.ShouldContain("app ");
    }

    [Fact]
    public async Task Validate_PrintsErrorsAndWarningsAtOnce_WithDidYouMeanForEventNames()
    {
        using var timeout = PilotProcess.Timeout();
        using var directory = new TempDirectory();
        var config = directory.File("pilot.json5");
        await File.WriteAllTextAsync(config, """
            {
              jobs: [
                { name: "web", exec: "true", timeout: "xx" },
                { name: "announce", exec: "true", when: { source: "web", once: "healthy" } },
                { name: "typo", exec: "true", when: { source: "web", each: "helthy" } },
              ],
            }
            """, timeout.Token);

        var outcome = await Run(timeout.Token, null, "-config", config, "-validate");

        outcome.ExitCode.ShouldBe(1);
        var lines = outcome.Stdout.Split('\n');
        lines.ShouldContain(l => l.StartsWith("error: jobs[0].timeout:", StringComparison.Ordinal));
        lines.ShouldContain("error: jobs[2].when.each: unable to parse job[typo].when.event: helthy is not a valid event code (did you mean \"healthy\"?) (line 5)");
        lines.ShouldContain("warning: jobs[1] (line 4): job[announce].when waits for \"healthy\" from \"web\", which has no health check "
            + "(health.exec, health.http or health.tcp) and no health.notify, so that event never comes");
        lines.ShouldContain($"{config}: invalid, 2 error(s)");
    }

    [Fact]
    public async Task StartUp_LogsEachWarningOnce()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "web", exec: ["sh", "-c", "echo web-ran"] },
                { name: "announce", exec: "true", when: { source: "web", once: "healthy", timeout: "100ms" } },
              ],
            }
            """);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Lines.Count(l => l.Contains("which has no health check", StringComparison.Ordinal)).ShouldBe(1, pilot.Output);
    }

    [Fact]
    public async Task Maintenance_PrintsNothing_StatusShowsMaintenanceEveryTime_AndEventsJsonCarriesATime()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start(Config);
        await pilot.WaitForSocketAsync(timeout.Token);
        await pilot.WaitForLineAsync("app-up", timeout.Token);
        var start = new ProcessStartInfo(Checkout.PilotBinary());
        foreach (var arg in new[] { "events", "tick", "-json", "-config", pilot.ConfigPath })
        {
            start.ArgumentList.Add(arg);
        }
        await using var events = CapturedPilot.Start(start);

        var enable = await Run(timeout.Token, null, "-config", pilot.ConfigPath, "-maintenance", "enable");
        enable.ExitCode.ShouldBe(0, enable.Output);
        enable.Stdout.ShouldBeEmpty("v3 prints nothing, as for -putenv and -reload");
        // The periodic job runs twice more in maintenance: its health stays maintenance through each run.
        var ticks = pilot.Lines.Count(l => l.Contains("tick-ran", StringComparison.Ordinal));
        var first = await Run(timeout.Token, null, "status", "-config", pilot.ConfigPath);
        await pilot.WaitForLineAsync("tick-ran", timeout.Token, occurrences: ticks + 2);
        var second = await Run(timeout.Token, null, "status", "-config", pilot.ConfigPath);
        var exitSuccess = await events.WaitForLineAsync("exitSuccess", timeout.Token);

        foreach (var status in new[] { first, second })
        {
            status.ExitCode.ShouldBe(0, status.Output);
            var lines = status.Stdout.Split('\n');
            lines[0].ShouldBe("maintenance: on (health checks paused)", "no job has a port and there is no Consul: nothing is deregistered");
            lines.Where(l => l.StartsWith("app ", StringComparison.Ordinal) || l.StartsWith("tick ", StringComparison.Ordinal))
                .ShouldAllBe(l => l.Contains(" maintenance ", StringComparison.Ordinal));
        }
        var json = JsonDocument.Parse(exitSuccess).RootElement;
        json.GetProperty("time").GetDateTimeOffset().ShouldBeGreaterThan(DateTimeOffset.UtcNow.AddMinutes(-5));
        json.GetProperty("code").GetString().ShouldBe("exitSuccess");
        json.GetProperty("source").GetString().ShouldBe("tick");
    }
}
