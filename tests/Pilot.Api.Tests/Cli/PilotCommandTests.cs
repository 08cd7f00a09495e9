using System.Diagnostics;
using System.Text.Json;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Cli;

/// <summary>
/// Pilot's commands for people (<c>status</c>, <c>logs</c>, <c>stop</c>, <c>start</c>, <c>restart</c>, <c>events</c>, <c>help</c>):
/// the real <c>pilot</c> binary as the client of another real <c>pilot</c> running real jobs.
/// </summary>
public sealed class PilotCommandTests
{
    private const int SIGHUP = 1;

    /// <summary>
    /// <c>app</c> prints two lines and sleeps (restarted when it ends), with a health check that prints; <c>printer</c>
    /// prints a numbered line on every SIGHUP; <c>setup</c> ran once and completed.
    /// </summary>
    private const string Config = """
        {
          control: { socket: "SOCKET" },
          jobs: [
            { name: "app", exec: ["sh", "-c", "echo app-line-1; echo app-line-2 >&2; exec sleep 600"], restarts: "unlimited",
              health: { exec: ["sh", "-c", "echo check-ran"], interval: 1, ttl: 5 } },
            { name: "printer", exec: ["sh", "-c", "echo printed-$(date +%s%N)"], when: { source: "SIGHUP" } },
            { name: "setup", exec: "true" },
          ],
        }
        """;

    private static async Task<RunningPilot> StartAsync(CancellationToken cancellationToken)
    {
        var pilot = RunningPilot.Start(Config);
        await pilot.WaitForSocketAsync(cancellationToken);
        await pilot.WaitForLineAsync("app-line-2", cancellationToken);
        return pilot;
    }

    private static Task<PilotProcess.Outcome> Cli(RunningPilot pilot, CancellationToken cancellationToken, params string[] args) =>
        PilotProcess.RunAsync(["-config", pilot.ConfigPath, .. args], cancellationToken);

    /// <summary>A long-running command (<c>logs -f</c>, <c>events</c>) with its output lines collected.</summary>
    private static CapturedPilot StartCli(RunningPilot pilot, params string[] args)
    {
        var start = new ProcessStartInfo(Checkout.PilotBinary());
        foreach (var arg in (string[])["-config", pilot.ConfigPath, .. args])
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("CONTAINERPILOT");
        return CapturedPilot.Start(start);
    }

    private static async Task<JsonElement> JobAsync(RunningPilot pilot, string name, CancellationToken cancellationToken)
    {
        var status = await Cli(pilot, cancellationToken, "status", "-json");
        status.ExitCode.ShouldBe(0, status.Stderr);
        return JsonDocument.Parse(status.Stdout).RootElement.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == name);
    }

    [Fact]
    public async Task Status_ShowsEveryJobWithStateHealthPidRestartsLastExitAndUptime()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = await StartAsync(timeout.Token);
        using var http = pilot.CreateClient();
        while ((await http.GetJsonAsync("/v3/jobs/setup", timeout.Token)).Body.GetProperty("state").GetString() != "completed")
        {
            await Task.Delay(50, timeout.Token);
        }
        var app = await JobAsync(pilot, "app", timeout.Token);

        var outcome = await Cli(pilot, timeout.Token, "status");

        outcome.ExitCode.ShouldBe(0, outcome.Stderr);
        var lines = outcome.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Split("  ", StringSplitOptions.RemoveEmptyEntries).Select(c => c.Trim())
            .ShouldBe(["JOB", "STATE", "HEALTH", "PID", "RESTARTS", "LAST EXIT", "UPTIME", "CPU%", "MEM"]);
        var appRow = lines.Single(l => l.StartsWith("app ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        appRow[1].ShouldBe("running");
        appRow[3].ShouldBe(app.GetProperty("pid").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        appRow[6].ShouldMatch(@"^\d+(s|m\d+s)$");
        appRow[7].ShouldMatch(@"^\d+\.\d$");
        appRow[8].ShouldMatch(@"^\d+(K|\.\dM)$");
        lines.Single(l => l.StartsWith("setup ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .ShouldBe(["setup", "completed", "unknown", "-", "0", "0", "-", "-", "-"]);
    }

    [Fact]
    public async Task Logs_PrintsTheRecentLinesOfTheJobAndItsHealthCheck()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = await StartAsync(timeout.Token);
        await pilot.WaitForLineAsync("check-ran", timeout.Token);

        var all = await Cli(pilot, timeout.Token, "logs", "app");
        var last = await Cli(pilot, timeout.Token, "logs", "app", "-n", "1");

        all.ExitCode.ShouldBe(0, all.Stderr);
        var lines = all.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // The two lines come through two pipes (stdout, stderr): which is read first is not fixed.
        var firstTwo = lines.Take(2).ToList();
        firstTwo.ShouldContain(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\d{4}-\d\d-\d\dT\S+ app \d+ app-line-1$"), string.Join("\n", lines));
        firstTwo.ShouldContain(l => l.EndsWith(" app-line-2", StringComparison.Ordinal), string.Join("\n", lines));
        lines.ShouldContain(l => l.Contains(" check.app ", StringComparison.Ordinal) && l.EndsWith(" check-ran", StringComparison.Ordinal));
        last.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task LogsFollow_PrintsALineWrittenAfterItStarted()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = await StartAsync(timeout.Token);
        pilot.Signal(SIGHUP);
        var first = (await pilot.WaitForLineAsync("printed-", timeout.Token)).Split(' ')[^1];

        await using var follow = StartCli(pilot, "logs", "printer", "-f", "-n", "1");
        // The tail and the follower are taken together: once the old line is printed, every new one follows.
        await follow.WaitForLineAsync(first, timeout.Token);
        pilot.Signal(SIGHUP);
        var second = (await pilot.WaitForLineAsync("printed-", timeout.Token, occurrences: 2)).Split(' ')[^1];

        (await follow.WaitForLineAsync(second, timeout.Token)).ShouldMatch(@" printer \d+ printed-\d+$");
        follow.Lines.Count(l => l.Contains(first, StringComparison.Ordinal)).ShouldBe(1);
    }

    [Fact]
    public async Task Restart_GivesTheJobANewPid_AfterStoppingExitStoppedAndStartupEvents()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = await StartAsync(timeout.Token);
        var oldPid = (await JobAsync(pilot, "app", timeout.Token)).GetProperty("pid").GetInt32();
        await using var events = StartCli(pilot, "events");
        // A SIGHUP event seen by the stream proves it is subscribed.
        while (!events.Lines.Any(l => l.EndsWith(" signal SIGHUP", StringComparison.Ordinal)))
        {
            pilot.Signal(SIGHUP);
            await Task.WhenAny(events.WaitForLineAsync(" signal SIGHUP", timeout.Token), Task.Delay(500, timeout.Token));
        }

        var restart = await Cli(pilot, timeout.Token, "restart", "app");

        restart.ExitCode.ShouldBe(0, restart.Stderr);
        restart.Stdout.ShouldMatch(@"^app: restarted \(pid \d+\)\n$");
        var newPid = (await JobAsync(pilot, "app", timeout.Token)).GetProperty("pid").GetInt32();
        newPid.ShouldNotBe(oldPid);
        restart.Stdout.ShouldContain($"(pid {newPid})");
        await events.WaitForLineAsync(" startup app", timeout.Token);
        // Health check results of app (healthy/unhealthy) interleave; the lifecycle events come in this order.
        events.Lines.Where(l => l.EndsWith(" app", StringComparison.Ordinal)).Select(l => l.Split(' ')[1])
            .Where(code => code is not ("healthy" or "unhealthy"))
            .ShouldBe(["stopping", "exitFailed", "stopped", "startup"]);
        await pilot.WaitForLineAsync("app-line-1", timeout.Token, occurrences: 2);
    }

    [Fact]
    public async Task StopAndStart_KeepTheJobStopped_UntilStarted()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = await StartAsync(timeout.Token);

        var stop = await Cli(pilot, timeout.Token, "stop", "app");
        var stopAgain = await Cli(pilot, timeout.Token, "stop", "app");
        var stopped = await JobAsync(pilot, "app", timeout.Token);

        stop.ExitCode.ShouldBe(0, stop.Stderr);
        stop.Stdout.ShouldBe("app: stopped\n");
        stopAgain.Stdout.ShouldBe("app: already stopped\n");
        stopped.GetProperty("state").GetString().ShouldBe("stopped");
        stopped.TryGetProperty("pid", out _).ShouldBeFalse();
        pilot.Lines.Count(l => l.Contains("app-line-1", StringComparison.Ordinal)).ShouldBe(1, "restarts: unlimited does not bring a stopped job back");

        var start = await Cli(pilot, timeout.Token, "start", "app");

        start.ExitCode.ShouldBe(0, start.Stderr);
        start.Stdout.ShouldMatch(@"^app: started \(pid \d+\)\n$");
        await pilot.WaitForLineAsync("app-line-1", timeout.Token, occurrences: 2);
        (await JobAsync(pilot, "app", timeout.Token)).GetProperty("state").GetString().ShouldBe("running");
        (await Cli(pilot, timeout.Token, "start", "app")).Stdout.ShouldStartWith("app: already running (pid ");
    }

    [Fact]
    public async Task JobCommands_Exit1WithTheReason_ForAnUnknownOrCompletedJob()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = await StartAsync(timeout.Token);

        var unknown = await Cli(pilot, timeout.Token, "restart", "ap");
        var completed = await Cli(pilot, timeout.Token, "start", "setup");
        var logs = await Cli(pilot, timeout.Token, "logs", "ap");

        unknown.ExitCode.ShouldBe(1);
        unknown.Stderr.ShouldBe("there is no job named \"ap\"\n");
        completed.ExitCode.ShouldBe(1);
        completed.Stderr.ShouldContain("job \"setup\" has completed (halted for good); only a reload starts it again");
        logs.ExitCode.ShouldBe(1);
        logs.Stderr.ShouldBe("there is no job named \"ap\"\n");
    }

    [Theory]
    [InlineData("status")]
    [InlineData("logs", "app")]
    [InlineData("restart", "app")]
    [InlineData("events")]
    public async Task Commands_NameTheSocket_WhenPilotIsNotRunning(params string[] args)
    {
        using var timeout = PilotProcess.Timeout();
        using var directory = new TempDirectory();
        var config = directory.File("pilot.json5");
        await File.WriteAllTextAsync(config, $$"""{ control: { socket: "{{directory.File("none.sock")}}" } }""", timeout.Token);

        var outcome = await PilotProcess.RunAsync([.. args, "-config", config], timeout.Token);

        outcome.ExitCode.ShouldBe(1);
        outcome.Stderr.ShouldBe($"cannot reach Pilot at {directory.File("none.sock")}: no such file or directory (is Pilot running?)\n");
    }

    [Fact]
    public async Task UnknownWord_Exits2_AndNeverStartsASupervisor()
    {
        using var timeout = PilotProcess.Timeout();
        using var directory = new TempDirectory();
        var config = directory.File("pilot.json5");
        var marker = directory.File("ran");
        await File.WriteAllTextAsync(config, $$"""
            { control: { socket: "{{directory.File("pilot.sock")}}" }, jobs: [ { name: "app", exec: ["touch", "{{marker}}"] } ] }
            """, timeout.Token);
        var environment = new Dictionary<string, string> { ["CONTAINERPILOT"] = config };

        var unknown = await PilotProcess.RunAsync(["stauts"], timeout.Token, environment);
        var status = await PilotProcess.RunAsync(["status"], timeout.Token, environment);

        unknown.ExitCode.ShouldBe(2);
        // Pilot's own error, then where the usage is (not the whole usage, which buries the error).
        unknown.Stderr.ShouldBe("unknown command \"stauts\"\nRun 'pilot help' for usage.\n");
        status.ExitCode.ShouldBe(1, "a client of the config's socket, where nothing runs");
        status.Stderr.ShouldContain("cannot reach Pilot at ");
        File.Exists(marker).ShouldBeFalse("no job ran: no supervisor was started");
    }

    [Theory]
    [InlineData("help")]
    [InlineData("help", "logs")]
    [InlineData("logs", "-h")]
    [InlineData("restart", "--help")]
    public async Task Help_PrintsUsageToStdout_AndExits0(params string[] args)
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await PilotProcess.RunAsync(args, timeout.Token);

        outcome.ExitCode.ShouldBe(0, outcome.Stderr);
        outcome.Stdout.ShouldContain(args.Length == 1 ? "Commands (clients of the control socket" : $"pilot {args.First(a => a != "help")} JOB");
    }
}
